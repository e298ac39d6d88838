// Behaviour shared by the demo pages. Each block runs only where its elements exist.
(function () {
  'use strict';
  var $ = function (sel) { return document.querySelector(sel); };

  // Mark the current page in the nav.
  var path = location.pathname.replace(/index\.html$/, '');
  document.querySelectorAll('nav a').forEach(function (a) {
    if (a.getAttribute('href') === path) a.classList.add('active');
  });

  // Console output for the console panel.
  var logBtn = $('#log-btn');
  var logClicks = 0;
  if (logBtn) logBtn.addEventListener('click', function () {
    console.log('demo log', { clicks: ++logClicks, at: new Date().toISOString() });
    console.warn('demo warning: stock is low');
  });

  // An uncaught error (thrown from a timer, so nothing catches it).
  var errorBtn = $('#error-btn');
  if (errorBtn) errorBtn.addEventListener('click', function () {
    setTimeout(function () { throw new Error('Demo error from button'); }, 0);
  });

  // A network request for the network panel.
  var fetchBtn = $('#fetch-btn');
  if (fetchBtn) fetchBtn.addEventListener('click', function () {
    var out = $('#fetch-result');
    out.textContent = 'Loading…';
    fetch('/demo/api/items')
      .then(function (r) { return r.json(); })
      .then(function (data) { out.textContent = JSON.stringify(data, null, 2); })
      .catch(function (err) { out.textContent = 'Request failed: ' + err.message; });
  });

  // A watch link for support: Tandem('getWatchLink', cb) from the tracker's JS API.
  var watchBtn = $('#watch-link-btn');
  if (watchBtn) watchBtn.addEventListener('click', function () {
    var out = $('#watch-link');
    window.Tandem('getWatchLink', function (url, err) {
      out.hidden = false;
      if (url) { out.href = url; out.textContent = url; }
      else { out.removeAttribute('href'); out.textContent = 'No link: ' + (err && err.message); }
    });
  });

  // Single-page navigation: pushState without a reload.
  var spaLink = $('#spa-link');
  if (spaLink) spaLink.addEventListener('click', function (ev) {
    ev.preventDefault();
    history.pushState({ section: 2 }, '', '/demo/#section-2');
    document.title = 'Tandem Demo Shop · Section 2';
    var target = $('#section-2');
    target.hidden = false;
    target.scrollIntoView({ behavior: 'smooth' });
  });

  // The signup form: stays on the page and thanks the visitor.
  var form = $('#signup-form');
  if (form) form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var name = $('#name').value.trim() || 'friend';
    var thanks = $('#thanks');
    thanks.textContent = 'Thanks, ' + name + '!';
    thanks.hidden = false;
  });

  // A list that grows and shrinks (DOM mutations).
  var items = $('#items');
  var addBtn = $('#add-item');
  var removeBtn = $('#remove-item');
  var fruits = ['Apples', 'Bananas', 'Cherries', 'Dates', 'Elderberries', 'Figs', 'Grapes'];
  if (items && addBtn) addBtn.addEventListener('click', function () {
    var li = document.createElement('li');
    li.textContent = fruits[items.children.length % fruits.length] + ' #' + (items.children.length + 1);
    items.appendChild(li);
  });
  if (items && removeBtn) removeBtn.addEventListener('click', function () {
    if (items.lastElementChild) items.removeChild(items.lastElementChild);
  });
})();
