// The contact list of a form follows the chosen organisation: a <select data-contacts-of="ID"> lists
// only the contacts whose data-organisation is the value of the organisation <select id="ID">.
// Without this script every contact is listed and the server refuses a mismatch (progressive
// enhancement; the strict CSP allows only this file, no inline code).
(function () {
  "use strict";

  function follow(contacts) {
    var organisation = document.getElementById(contacts.getAttribute("data-contacts-of"));
    if (!organisation) {
      return;
    }
    function filter() {
      var chosen = organisation.value;
      var options = contacts.options;
      for (var i = 0; i < options.length; i += 1) {
        var option = options[i];
        var owner = option.getAttribute("data-organisation");
        if (owner === null || option.value === "") {
          continue; // the empty choice stays
        }
        var other = chosen !== "" && owner !== chosen;
        option.hidden = other;
        option.disabled = other; // some browsers show hidden options: a disabled one cannot be chosen
        if (other && option.selected) {
          contacts.value = "";
        }
      }
    }
    organisation.addEventListener("change", filter);
    contacts.addEventListener("change", function () {
      // A contact chosen first picks their organisation too.
      var option = contacts.options[contacts.selectedIndex];
      var owner = option ? option.getAttribute("data-organisation") : null;
      if (organisation.value === "" && owner) {
        organisation.value = owner;
        filter();
      }
    });
    filter();
  }

  function start() {
    var lists = document.querySelectorAll("select[data-contacts-of]");
    for (var i = 0; i < lists.length; i += 1) {
      follow(lists[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
