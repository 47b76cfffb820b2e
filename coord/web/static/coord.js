// Coord's only script. The Content-Security-Policy allows no inline script or event handler
// (coord/web/security.py): templates declare behaviours with data- attributes, handled here.
//   <form data-confirm="Question ?">  asks before submitting; cancelling keeps the page as it is.
//   <button data-print>               prints the page.
//   <input data-select-on-focus>      selects the whole value on focus (URLs to copy).
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
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
