// The console's little script: it asks before an action with consequences
// (a button with data-confirm), and fills an answer from a canned one (a
// select with data-fill naming the textarea). Without it every form still
// works, without the question.
'use strict';

document.addEventListener('submit', (e) => {
  const b = e.submitter;
  if (b && b.dataset.confirm && !window.confirm(b.dataset.confirm)) e.preventDefault();
});

document.addEventListener('change', (e) => {
  const s = e.target;
  if (!(s instanceof HTMLSelectElement) || !s.dataset.fill || !s.value) return;
  const area = document.getElementById(s.dataset.fill);
  if (area) {
    area.value = s.value;
    area.focus();
  }
  s.selectedIndex = 0;
});
