// The chat page. It posts the visitor's messages and uploads, and long-polls
// for the bot's replies. Every text that comes from the server or the visitor
// is put in the page with textContent or createTextNode: it is never parsed
// as HTML, so markup in a message is shown as it was written.
'use strict';

(function () {
  // MAX_MEDIA_MB is bot.MaxMediaMB (a test keeps them equal): larger files
  // are refused here, before they cross a phone's data plan.
  const MAX_MEDIA_MB = 20;
  const LANG_KEY = 'aftersales.chat.lang';

  const TEXT = {
    zh: {
      title: '售后报修',
      subtitle: '新房问题，在线报修',
      switchTo: 'English',
      hint: '输入“报修”开始，或点下方菜单',
      menu: '菜单',
      menuWord: '菜单',
      send: '发送',
      placeholder: '输入消息…',
      contactPlaceholder: '请输入手机号',
      attach: '发送照片或视频',
      typing: '对方正在输入…',
      uploading: '上传中…',
      image: '[图片]',
      photo: '[照片]',
      video: '[视频]',
      voice: '[语音]',
      document: '[文件]',
      offline: '连接中断，正在重连…',
      tooLargeUpload: '文件太大，请发送 {mb} MB 以内的照片或视频。',
      tooLargeSend: '消息太长，请分几条发送。',
      busy: '服务器繁忙，请稍后再试。',
      network: '网络异常，没有发出去，请重试。',
      sendFailed: '发送失败：{msg}',
      uploadFailed: '上传失败：{msg}',
    },
    en: {
      title: 'After-sales Service',
      subtitle: 'Report a problem in your new home',
      switchTo: '中文',
      hint: 'Type “report” to start, or tap Menu below',
      menu: 'Menu',
      menuWord: 'menu',
      send: 'Send',
      placeholder: 'Type a message…',
      contactPlaceholder: 'Type your phone number',
      attach: 'Send a photo or video',
      typing: 'Typing…',
      uploading: 'Uploading…',
      image: '[Image]',
      photo: '[Photo]',
      video: '[Video]',
      voice: '[Voice]',
      document: '[File]',
      offline: 'Connection lost, reconnecting…',
      tooLargeUpload: 'That file is too large: please send photos or videos under {mb} MB.',
      tooLargeSend: 'That message is too long: please split it up.',
      busy: 'The server is busy. Please try again in a moment.',
      network: 'Network problem: not sent. Please try again.',
      sendFailed: 'Not sent: {msg}',
      uploadFailed: 'Upload failed: {msg}',
    },
  };

  const byId = (id) => document.getElementById(id);
  const log = byId('log');
  const hint = byId('hint');
  const typing = byId('typing');
  const status = byId('status');
  const input = byId('input');
  const fileInput = byId('file');
  const attach = document.querySelector('.attach');

  const store = storage();
  let lang = store.get(LANG_KEY) === 'en' ? 'en' : 'zh';
  let after = 0; // the seq of the last message shown
  let inFlight = 0; // sends and uploads waiting for the server
  let contactMode = false;
  const shown = new Map(); // the visitor's own messages on the page: id → bubble

  // ---- helpers ----

  function storage() {
    const mem = {};
    try {
      const ls = window.localStorage;
      const probe = '__probe__';
      ls.setItem(probe, probe);
      ls.removeItem(probe);
      return { get: (k) => ls.getItem(k), set: (k, v) => ls.setItem(k, v) };
    } catch (e) {
      return { get: (k) => (k in mem ? mem[k] : null), set: (k, v) => { mem[k] = v; } };
    }
  }

  function randomId(bytes) {
    const a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // t returns the UI text for key, with {name} replaced by vars.name.
  function t(key, vars) {
    let s = TEXT[lang][key] || TEXT.zh[key] || key;
    if (vars) {
      for (const k of Object.keys(vars)) s = s.split('{' + k + '}').join(String(vars[k]));
    }
    return s;
  }

  // el makes an element; text, when given, is set as plain text.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wakePoll = () => { clearTimeout(timer); resolve(); };
    });
  }
  let wakePoll = null;
  function kick() {
    const w = wakePoll;
    wakePoll = null;
    if (w) w();
  }

  // ---- language ----

  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title');
    for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll('[data-i18n-label]')) {
      e.setAttribute('aria-label', t(e.dataset.i18nLabel));
      e.title = t(e.dataset.i18nLabel);
    }
    setContactMode(contactMode);
  }

  function setContactMode(on) {
    contactMode = on;
    input.inputMode = on ? 'tel' : 'text';
    input.placeholder = t(on ? 'contactPlaceholder' : 'placeholder');
  }

  // ---- the conversation ----

  function scrollDown() {
    requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
  }

  // add puts a node at the end of the conversation, above the typing dots.
  function add(node) {
    hint.hidden = true;
    log.insertBefore(node, typing);
    scrollDown();
  }

  function row(from) {
    const r = el('div', 'row ' + from);
    const b = el('div', 'bubble');
    r.appendChild(b);
    return [r, b];
  }

  function mediaTag(kind) {
    const known = ['photo', 'video', 'voice', 'document'];
    return el('span', 'tag', t(known.includes(kind) ? kind : 'document'));
  }

  function choices(list) {
    const box = el('div', 'choices');
    for (const c of list) {
      const b = el('button', 'choice', c.label);
      b.type = 'button';
      b.addEventListener('click', async () => {
        const all = box.querySelectorAll('button');
        all.forEach((x) => { x.disabled = true; });
        b.classList.add('chosen');
        const fields = c.payload ? { payload: c.payload, label: c.label } : { text: c.label };
        if (!(await sendMessage(fields, c.label))) {
          all.forEach((x) => { x.disabled = false; });
          b.classList.remove('chosen');
        }
      });
      box.appendChild(b);
    }
    return box;
  }

  // photo is an image of the conversation, served by the service.
  function photo(url) {
    const img = el('img', 'photo');
    img.alt = t('image');
    img.loading = 'lazy';
    img.src = url;
    img.addEventListener('load', scrollDown);
    return img;
  }

  // render shows a message from the server.
  function render(m) {
    if (m.from === 'user' && m.kind === 'stored') {
      // The service stored a photo the visitor sent from this page: shown
      // from the service when the browser could not preview it (HEIC).
      const b = shown.get(m.id);
      if (b && m.media_url && !b.querySelector('img')) b.prepend(photo(m.media_url));
      return;
    }
    if (m.from === 'user') {
      if (m.id && shown.has(m.id)) return; // already on the page
      const [r, b] = row('user');
      if (m.id) shown.set(m.id, b);
      if (m.kind === 'photo' && m.media_url) b.appendChild(photo(m.media_url));
      if (m.kind && m.kind !== 'text') b.appendChild(mediaTag(m.kind));
      b.appendChild(document.createTextNode(m.text || ''));
      add(r);
      return;
    }
    const [r, b] = row('bot');
    if (m.kind === 'photo') {
      if (m.media_url) {
        b.appendChild(photo(m.media_url));
      } else {
        b.appendChild(el('span', 'tag', t('image')));
      }
      if (m.text) b.appendChild(document.createTextNode('\n'));
    }
    b.appendChild(document.createTextNode(m.text || ''));
    if (Array.isArray(m.choices) && m.choices.length > 0) r.appendChild(choices(m.choices));
    add(r);
    setContactMode(Boolean(m.request_contact));
  }

  function busy(delta) {
    inFlight += delta;
    typing.hidden = inFlight === 0;
    scrollDown();
  }

  // failed marks the visitor's message as not delivered and says why.
  function failed(r, err, what) {
    r.classList.add('failed');
    const note = el('p', 'note error', errorText(err, what));
    r.after(note);
    scrollDown();
  }

  function errorText(err, what) {
    switch (err.code) {
      case 'too_large':
        if (what === 'upload') {
          const mb = err.max_bytes ? Math.max(1, Math.floor(err.max_bytes / 1048576)) : MAX_MEDIA_MB;
          return t('tooLargeUpload', { mb: mb });
        }
        return t('tooLargeSend');
      case 'busy':
        return t('busy');
      case 'network':
        return t('network');
    }
    return t(what === 'upload' ? 'uploadFailed' : 'sendFailed', { msg: err.message || err.code });
  }

  // errorOf reads the server's JSON error, or makes one from the status.
  function errorOf(status, statusText, body) {
    let err = { code: status === 413 ? 'too_large' : 'http_' + status, message: status + ' ' + statusText };
    try {
      const j = JSON.parse(body);
      if (j && j.error && j.error.code) err = j.error;
    } catch (e) { /* not JSON: keep the status */ }
    return err;
  }

  // ---- sending ----

  // sendMessage shows shownText as the visitor's bubble and posts fields;
  // it resolves to whether the server took the message.
  async function sendMessage(fields, shownText) {
    const id = randomId(12);
    const [r, b] = row('user');
    shown.set(id, b);
    b.textContent = shownText;
    add(r);
    busy(+1);
    try {
      const res = await fetch('api/send', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(Object.assign({ id: id, lang: lang }, fields)),
      });
      if (!res.ok) {
        failed(r, errorOf(res.status, res.statusText, await res.text()), 'send');
        return false;
      }
      kick(); // the server answered: stop any poll back-off
      return true;
    } catch (e) {
      failed(r, { code: 'network' }, 'send');
      return false;
    } finally {
      busy(-1);
    }
  }

  function submit() {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    resize();
    setContactMode(false);
    sendMessage({ text: text }, text);
    input.focus();
  }

  function resize() {
    input.rows = Math.min(5, Math.max(1, input.value.split('\n').length));
  }

  function upload(file) {
    const id = randomId(12);
    const kind = file.type.startsWith('video/') ? 'video' : file.type.startsWith('image/') ? 'photo' : 'document';
    const [r, b] = row('user');
    shown.set(id, b);
    if (kind === 'photo') {
      const img = el('img', 'preview');
      img.alt = '';
      const url = URL.createObjectURL(file);
      img.addEventListener('load', () => URL.revokeObjectURL(url));
      img.addEventListener('error', () => { URL.revokeObjectURL(url); img.remove(); }); // HEIC on most browsers
      img.src = url;
      b.appendChild(img);
    }
    b.appendChild(mediaTag(kind));
    b.appendChild(document.createTextNode(file.name || ''));
    add(r);

    if (file.size > MAX_MEDIA_MB * 1048576) {
      failed(r, { code: 'too_large' }, 'upload');
      return;
    }
    const state = el('div', 'upload-state', t('uploading'));
    const bar = el('progress');
    bar.max = 100;
    bar.value = 0;
    b.appendChild(state);
    b.appendChild(bar);
    scrollDown();

    const form = new FormData();
    form.append('id', id);
    form.append('lang', lang);
    form.append('file', file, file.name);

    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'api/upload');
    xhr.upload.addEventListener('progress', (e) => {
      if (!e.lengthComputable) return;
      const p = Math.round((e.loaded * 100) / e.total);
      bar.value = p;
      state.textContent = t('uploading') + ' ' + p + '%';
    });
    const done = () => {
      state.remove();
      bar.remove();
      attach.classList.remove('busy');
      busy(-1);
    };
    xhr.addEventListener('load', () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        kick();
        return;
      }
      failed(r, errorOf(xhr.status, xhr.statusText, xhr.responseText), 'upload');
    });
    const lost = () => { done(); failed(r, { code: 'network' }, 'upload'); };
    xhr.addEventListener('error', lost);
    xhr.addEventListener('abort', lost);
    attach.classList.add('busy');
    busy(+1);
    xhr.send(form);
  }

  // ---- receiving ----

  async function poll() {
    let delay = 1000;
    for (;;) {
      try {
        const res = await fetch('api/messages?after=' + after, { cache: 'no-store' });
        if (!res.ok) throw new Error('HTTP ' + res.status);
        const data = await res.json();
        for (const m of data.messages || []) render(m);
        after = data.next; // lower than before when the server restarted
        delay = 1000;
        status.hidden = true;
      } catch (e) {
        status.textContent = t('offline');
        status.hidden = false;
        await sleep(delay * (0.75 + Math.random() / 2));
        delay = Math.min(delay * 2, 30000);
      }
    }
  }

  // ---- wiring ----

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener('input', resize);
  byId('send').addEventListener('click', submit);
  byId('menu').addEventListener('click', () => {
    const word = t('menuWord');
    sendMessage({ text: word }, word);
  });
  byId('lang').addEventListener('click', () => {
    lang = lang === 'zh' ? 'en' : 'zh';
    store.set(LANG_KEY, lang);
    applyLang();
    const word = lang === 'en' ? 'English' : '中文';
    sendMessage({ text: word }, word);
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (file) upload(file);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) kick();
  });

  applyLang();
  poll();
})();
