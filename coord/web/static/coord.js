// Coord's only script. The Content-Security-Policy allows no inline script or event handler
// (coord/web/security.py): templates declare behaviours with data- attributes, handled here.
//   <form data-confirm="Question ?">  asks before submitting, in the DSFR modal of base.html
//                                     (window.confirm where the DSFR script is not loaded);
//                                     cancelling keeps the page as it is.
//   <button data-print>               prints the page.
//   <input data-select-on-focus>      selects the whole value on focus (URLs to copy).
"use strict";

let pending = null; // the form waiting for the answer of the confirmation modal, and its button

function confirmationModal() {
  const dialog = document.getElementById("confirmation");
  const api = dialog && typeof window.dsfr === "function" ? window.dsfr(dialog).modal : undefined;
  return api ? { dialog, api } : null;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (!question) {
    return;
  }
  if (form.dataset.confirmed === "oui") {
    delete form.dataset.confirmed; // confirmed once: the next submission asks again
    return;
  }
  const modal = confirmationModal();
  if (!modal) {
    if (!window.confirm(question)) {
      event.preventDefault();
    }
    return;
  }
  event.preventDefault();
  pending = { form, submitter: event.submitter };
  modal.dialog.querySelector("[data-confirm-question]").textContent = question;
  modal.api.disclose();
});

document.addEventListener("click", (event) => {
  if (!(event.target instanceof Element) || !event.target.closest("[data-confirm-accept]") || !pending) {
    return;
  }
  const { form, submitter } = pending;
  pending = null;
  confirmationModal()?.api.conceal();
  form.dataset.confirmed = "oui";
  form.requestSubmit(submitter instanceof HTMLElement && submitter.form === form ? submitter : undefined);
});

document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});

document.addEventListener("focusin", (event) => {
  const field = event.target;
  if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
    field.select();
  }
});
