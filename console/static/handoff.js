// The hand-off inbox, live: the element #handoff-live (the inbox's lists, or
// a conversation's messages) asks its data-live-url every data-interval ms,
// with the version it shows, and takes the new HTML when there is some (204:
// nothing changed). The answers come from the database, so any instance of
// the service gives them. A conversation whose state changed (taken by
// someone else, ended, a case linked) reloads; the reply being typed is kept
// in the tab (sessionStorage) until it is sent.
// Plain JavaScript, no library; without it the pages work, reloaded by hand.
'use strict';

(() => {
  const box = document.getElementById('handoff-live');
  if (!box) return;
  const page = document.getElementById('handoff');
  const reply = document.getElementById('reply-text');
  const draftKey = 'handoff-draft:' + location.pathname;
  if (new URLSearchParams(location.search).get('done') === 'reply') {
    sessionStorage.removeItem(draftKey); // sent
  } else if (reply && !reply.value && sessionStorage.getItem(draftKey)) {
    reply.value = sessionStorage.getItem(draftKey);
  }
  if (reply) reply.addEventListener('input', () => sessionStorage.setItem(draftKey, reply.value));
  const every = Number(box.dataset.interval) || 2000;
  let version = box.dataset.version || '';
  let busy = false;

  const atBottom = () => window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;

  async function poll() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const url = box.dataset.liveUrl + '?v=' + encodeURIComponent(version);
      const res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (res.status === 204 || !res.ok) return;
      const live = await res.json();
      if (page && (live.state !== page.dataset.state || live.taken_by !== page.dataset.takenBy ||
          String(live.case_id || 0) !== page.dataset.caseId)) {
        box.insertAdjacentHTML('beforebegin', '<p class="notice">' + page.dataset.changed + '</p>');
        location.reload();
        return;
      }
      const follow = atBottom();
      version = live.version;
      box.dataset.version = version;
      box.innerHTML = live.html;
      if (page && follow) window.scrollTo(0, document.body.scrollHeight);
    } catch (e) {
      // The network hiccuped: the next poll tries again.
    } finally {
      busy = false;
    }
  }

  setInterval(poll, every);
  document.addEventListener('visibilitychange', poll);
})();
