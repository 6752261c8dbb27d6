/**
 * The recipient page of a share link: one static HTML document, its script and its stylesheet,
 * served from this origin under a strict Content-Security-Policy (no inline script or style).
 * The page is the same for every code; all it knows comes from `/s/{code}/info`.
 */

export const SHARE_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>Shared file · Stowage</title>
<link rel="stylesheet" href="/s/assets/share.css">
<script src="/s/assets/share.js" defer></script>
</head>
<body>
<main class="card" aria-live="polite">
  <section id="loading"><p class="mute">Loading…</p></section>
  <form id="unlock" hidden>
    <h1>Password required</h1>
    <p class="mute">This file is protected. Enter the password the sender gave you.</p>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" maxlength="1024" required>
    <p id="unlock-error" class="error" role="alert" hidden></p>
    <button id="unlock-button" type="submit">Unlock</button>
  </form>
  <section id="file" hidden>
    <h1 id="file-name"></h1>
    <p id="file-meta" class="mute"></p>
    <div id="preview"></div>
    <p id="file-limits" class="mute"></p>
    <div class="actions">
      <button id="preview-button" type="button" class="secondary" hidden>Preview</button>
      <a id="download" class="button" href="#">Download</a>
    </div>
  </section>
  <section id="gone" hidden>
    <h1>This link is no longer available</h1>
    <p class="mute">If you think this is wrong, ask whoever sent you the link.</p>
  </section>
  <section id="failure" hidden>
    <h1>Something went wrong</h1>
    <p id="failure-text" class="mute"></p>
  </section>
</main>
<p class="brand">Shared via Stowage</p>
</body>
</html>
`;

export const SHARE_PAGE_SCRIPT = `(function () {
  'use strict';

  var code = decodeURIComponent(location.pathname.split('/')[2] || '');
  var base = '/s/' + encodeURIComponent(code);
  var SECTIONS = ['loading', 'unlock', 'file', 'gone', 'failure'];
  var GONE = ['not_found', 'revoked', 'expired', 'exhausted'];
  var TEXT_PREVIEW_LIMIT = 256 * 1024;

  function el(id) {
    return document.getElementById(id);
  }

  function show(id) {
    SECTIONS.forEach(function (name) {
      el(name).hidden = name !== id;
    });
  }

  function formatSize(bytes) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit === 0 ? String(value) : value.toFixed(1)) + ' ' + units[unit];
  }

  function errorOf(res) {
    return res.json().then(
      function (body) {
        return (body && body.error) || { code: 'unknown', message: 'HTTP ' + res.status };
      },
      function () {
        return { code: 'unknown', message: 'HTTP ' + res.status };
      },
    );
  }

  function fail(error, res) {
    if (GONE.indexOf(error.code) >= 0) {
      show('gone');
      return;
    }
    var text = error.message || 'The shared file could not be loaded.';
    if (error.code === 'rate_limited') {
      var wait = res && res.headers.get('Retry-After');
      text = 'Too many requests from your network. Try again in ' + (wait || 'a few') + ' seconds.';
    }
    el('failure-text').textContent = text;
    show('failure');
  }

  function previewUrl(info) {
    return info.raw_url + '?inline=1';
  }

  function renderPreview(info) {
    var box = el('preview');
    box.textContent = '';
    var url = previewUrl(info);
    var node;
    if (info.preview_kind === 'image') {
      node = document.createElement('img');
      node.alt = info.name;
      node.src = url;
    } else if (info.preview_kind === 'video' || info.preview_kind === 'audio') {
      node = document.createElement(info.preview_kind);
      node.controls = true;
      node.preload = 'metadata';
      node.src = url;
    } else if (info.preview_kind === 'pdf') {
      node = document.createElement('a');
      node.href = url;
      node.target = '_blank';
      node.rel = 'noopener noreferrer';
      node.textContent = 'Open the PDF in your browser';
    } else if (info.preview_kind === 'text' && info.size <= TEXT_PREVIEW_LIMIT) {
      node = document.createElement('pre');
      node.textContent = 'Loading preview…';
      fetch(url, { credentials: 'same-origin' }).then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.text();
      }).then(
        function (text) {
          node.textContent = text;
        },
        function () {
          node.textContent = 'The preview could not be loaded.';
        },
      );
    }
    if (node) box.appendChild(node);
  }

  function canPreview(info) {
    return info.preview_kind !== 'none' && (info.preview_kind !== 'text' || info.size <= TEXT_PREVIEW_LIMIT);
  }

  function render(info) {
    document.title = info.name + ' · Stowage';
    el('file-name').textContent = info.name;
    el('file-meta').textContent = formatSize(info.size) + (info.content_type ? ' · ' + info.content_type : '');
    var limits = [];
    if (info.expires_at) limits.push('Available until ' + new Date(info.expires_at).toLocaleString());
    if (typeof info.max_downloads === 'number') {
      var left = typeof info.downloads_left === 'number' ? info.downloads_left : info.max_downloads - info.download_count;
      limits.push(left + ' of ' + info.max_downloads + ' downloads left');
    }
    el('file-limits').textContent = limits.join(' · ');
    var download = el('download');
    download.href = info.raw_url;
    download.setAttribute('download', info.name);
    var button = el('preview-button');
    el('preview').textContent = '';
    button.hidden = true;
    if (canPreview(info)) {
      if (typeof info.max_downloads === 'number') {
        // On a capped link the preview takes this visit's download, so it waits for a click.
        button.hidden = false;
        button.onclick = function () {
          button.hidden = true;
          renderPreview(info);
        };
      } else {
        renderPreview(info);
      }
    }
    show('file');
  }

  function load() {
    fetch(base + '/info', { credentials: 'same-origin', headers: { accept: 'application/json' } }).then(
      function (res) {
        if (res.ok) return res.json().then(render);
        return errorOf(res).then(function (error) {
          if (error.code === 'password_required') {
            show('unlock');
            el('password').focus();
          } else {
            fail(error, res);
          }
        });
      },
      function () {
        fail({ code: 'network', message: 'The server could not be reached.' });
      },
    );
  }

  function unlock(event) {
    event.preventDefault();
    var button = el('unlock-button');
    var message = el('unlock-error');
    button.disabled = true;
    message.hidden = true;
    fetch(base + '/unlock', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ password: el('password').value }),
    })
      .then(function (res) {
        if (res.ok) {
          el('password').value = '';
          return res.json().then(render);
        }
        return errorOf(res).then(function (error) {
          if (error.code === 'password_mismatch') {
            message.textContent = 'Wrong password. Try again.';
            message.hidden = false;
            el('password').select();
          } else if (error.code === 'rate_limited') {
            var wait = res.headers.get('Retry-After');
            message.textContent = 'Too many attempts. Try again in ' + (wait || 'a few') + ' seconds.';
            message.hidden = false;
          } else {
            fail(error, res);
          }
        });
      }, function () {
        message.textContent = 'The server could not be reached.';
        message.hidden = false;
      })
      .then(function () {
        button.disabled = false;
      });
  }

  el('unlock').addEventListener('submit', unlock);
  load();
})();
`;

export const SHARE_PAGE_STYLE = `:root {
  color-scheme: light dark;
  --bg: #f5f6f8;
  --card: #ffffff;
  --fg: #16181d;
  --mute: #5d6472;
  --accent: #2f5fd0;
  --error: #b42318;
  --line: #dfe2e8;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #111317; --card: #1a1d23; --fg: #eceef2; --mute: #a0a7b4; --accent: #7a9cf0; --error: #f97066; --line: #2c313a; }
}
* { box-sizing: border-box; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  padding: 24px;
  background: var(--bg);
  color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
[hidden] { display: none !important; }
.card {
  width: 100%;
  max-width: 560px;
  padding: 28px;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 12px;
}
h1 { margin: 0 0 4px; font-size: 20px; overflow-wrap: anywhere; }
.mute { color: var(--mute); margin: 0 0 12px; }
.error { color: var(--error); margin: 8px 0 0; }
label { display: block; margin: 16px 0 6px; font-weight: 600; }
input {
  width: 100%;
  padding: 10px 12px;
  border: 1px solid var(--line);
  border-radius: 8px;
  background: transparent;
  color: inherit;
  font: inherit;
}
button, .button {
  display: inline-block;
  margin-top: 16px;
  padding: 10px 18px;
  border: 0;
  border-radius: 8px;
  background: var(--accent);
  color: #fff;
  font: inherit;
  font-weight: 600;
  text-decoration: none;
  cursor: pointer;
}
button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--line); }
button:disabled { opacity: 0.6; cursor: wait; }
.actions { display: flex; gap: 12px; justify-content: flex-end; flex-wrap: wrap; }
#preview img, #preview video { display: block; max-width: 100%; max-height: 60vh; margin: 12px auto; border-radius: 8px; }
#preview audio { width: 100%; margin: 12px 0; }
#preview pre {
  max-height: 50vh;
  overflow: auto;
  padding: 12px;
  border: 1px solid var(--line);
  border-radius: 8px;
  white-space: pre-wrap;
  font-size: 13px;
}
.brand { margin-top: 16px; color: var(--mute); font-size: 12px; }
`;
