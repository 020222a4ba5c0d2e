// The lesson text editor: Quill 2 (vendor/quill, BSD-3-Clause) over the form's textarea. The form
// still posts HTML in the textarea, which the server sanitises (courses/service/authoring.py);
// without script the textarea is all there is, and text typed in it keeps its paragraphs.
(function () {
  "use strict";
  var area = document.querySelector("textarea[data-editor=rich]");
  var template = document.getElementById("editor-toolbar");
  if (!area || !template || !window.Quill) { return; }
  var labels = area.dataset;

  var wrapper = document.createElement("div");
  wrapper.className = "lesson-editor";
  var toolbar = template.content.firstElementChild.cloneNode(true);
  var box = document.createElement("div");
  wrapper.appendChild(toolbar);
  wrapper.appendChild(box);
  area.parentNode.insertBefore(wrapper, area.nextSibling);
  // Quill's link tooltip has its words in its style sheet, in English: ours come from the page
  // (custom properties set through the DOM, so no inline style is needed)
  ["Visit", "Edit", "Remove", "Save", "Enter"].forEach(function (name) {
    wrapper.style.setProperty("--editor-" + name.toLowerCase(), JSON.stringify(labels["label" + name] || ""));
  });

  // a link typed as "example.org" is a site, not a page of ours
  var Link = window.Quill.import("formats/link");
  var sanitizeLink = Link.sanitize;
  Link.sanitize = function (url) {
    var bare = /^[\w-]+(\.[\w-]+)+(\/|$)/.test(url || "");
    return sanitizeLink.call(this, bare ? "https://" + url : url);
  };

  var quill = new window.Quill(box, {
    theme: "snow",
    bounds: wrapper,  // the link box stays on the phone's screen
    modules: { toolbar: toolbar },
    // what the sanitiser keeps; a paste brings nothing else (no colours, fonts or sizes)
    formats: ["header", "bold", "italic", "underline", "link", "list", "indent", "blockquote"],
    placeholder: labels.placeholder || ""
  });
  quill.root.setAttribute("aria-label", labels.labelText || "");
  quill.root.setAttribute("aria-multiline", "true");
  quill.root.setAttribute("role", "textbox");
  var linkBox = wrapper.querySelector(".ql-tooltip input");
  if (linkBox) { linkBox.dataset.link = "https://"; }

  // Typed text (written before the editor, or without script) opens as paragraphs, as the server
  // reads it: a blank line starts one, a single line break stays one.
  function textToHtml(text) {
    var holder = document.createElement("div");
    text.replace(/\r\n?/g, "\n").trim().split(/\n[ \t]*\n/).forEach(function (part) {
      if (!part.trim()) { return; }
      var p = document.createElement("p");
      part.split("\n").forEach(function (line, index) {
        if (index) { p.appendChild(document.createElement("br")); }
        p.appendChild(document.createTextNode(line.trim()));
      });
      holder.appendChild(p);
    });
    return holder.innerHTML;
  }
  var initial = area.value;
  if (initial.trim()) {
    var isHtml = /<\s*\/?\s*(p|br|div|h[1-6]|ul|ol|li|blockquote|pre|table)\b/i.test(initial);
    quill.setContents(quill.clipboard.convert({ html: isHtml ? initial : textToHtml(initial) }), "silent");
  }

  // Quill 2.0.3 writes every space as &nbsp; (lines would not wrap), and an empty line as <p></p>
  // (which shows nothing): the author's spaces and empty lines are posted as they look.
  function html() {
    if (quill.getLength() <= 1) { return ""; }
    return quill.getSemanticHTML().replace(/&nbsp;/g, " ").replace(/<p><\/p>/g, "<p><br></p>");
  }
  function sync() { area.value = html(); }
  quill.on("text-change", sync);
  if (area.form) { area.form.addEventListener("submit", sync); }
  area.hidden = true;
  area.classList.add("editor-source");  // the app's textarea style would show it all the same
  var hint = document.getElementById("plain-text-hint");  // for the textarea alone
  if (hint) { hint.hidden = true; }
  wrapper.dataset.ready = "1";
})();
