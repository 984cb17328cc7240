// Form pieces the pages share: a labelled field with its help line and the place of its error, and the
// API's refusals shown under the field they name (ApiError.field) or, for the others, in one place.
import {ApiError} from "./api.js";
import {alertBox, el, fill} from "./dom.js";

function described(input, help) {
  input.setAttribute("aria-describedby", help ? `${input.id}-help ${input.id}-error` : `${input.id}-error`);
  return help ? el("div", {id: `${input.id}-help`, class: "form-text"}, help) : null;
}

// A text field (`input` has its id): its <label for>, the input, the help and the error's place.
export function field(label, input, help) {
  const helpLine = described(input, help);
  return el("div", {class: "mb-3"},
    el("label", {for: input.id, class: "form-label"}, label), input, helpLine,
    el("div", {id: `${input.id}-error`, class: "invalid-feedback"}));
}

// A checkbox with its label, its help and its error's place.
export function checkbox(label, input, help) {
  input.classList.add("form-check-input");
  const helpLine = described(input, help);
  return el("div", {class: "form-check mb-3"},
    input, el("label", {for: input.id, class: "form-check-label"}, label), helpLine,
    el("div", {id: `${input.id}-error`, class: "invalid-feedback"}));
}

// `fields` maps the API's field names to inputs; an error naming none of them goes to `general`.
export function errorPlaces(fields, general) {
  const inputs = Object.values(fields);
  return {
    clear() {
      for (const input of inputs) {
        input.classList.remove("is-invalid");
        input.removeAttribute("aria-invalid");
        const place = document.getElementById(`${input.id}-error`);
        if (place) place.textContent = "";
      }
      fill(general);
    },
    show(error) {
      this.clear();
      const named = error instanceof ApiError && error.field && Object.hasOwn(fields, error.field);
      const input = named ? fields[error.field] : undefined;
      if (input) {
        input.classList.add("is-invalid");
        input.setAttribute("aria-invalid", "true");
        document.getElementById(`${input.id}-error`).textContent = error.message;
        input.focus();
      } else {
        fill(general, alertBox("danger", error.message));
      }
    },
  };
}
