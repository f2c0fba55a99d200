/// The dashboard's stylesheet additions and its one script.
extension DashboardTemplates {
    /// The dashboard's additions to the hosted pages' stylesheet (served as one file).
    static let stylesheet = """
        .dash { background: #f8fafc; }
        .skip { position: absolute; left: -9999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: 0.5rem; z-index: 10; }
        .test-banner { background: #f59e0b; color: #111827; text-align: center; padding: 0.5rem 1rem; font-weight: 500; }
        .dash-header { display: flex; flex-wrap: wrap; align-items: center; gap: 0.75rem 1.5rem; padding: 0.75rem 1.25rem;
                       background: #111827; color: #f9fafb; }
        .dash-header a { color: #f9fafb; }
        .dash-org { font-weight: 700; }
        .mode-switch { display: inline-flex; border: 1px solid #6b7280; border-radius: 999px; overflow: hidden; }
        .mode-switch a { padding: 0.25rem 0.875rem; text-decoration: none; }
        .mode-switch a.on { background: #f9fafb; color: #111827; font-weight: 600; }
        .dash-user { margin-left: auto; display: flex; align-items: center; gap: 0.5rem; }
        .dash-user .muted { color: #d1d5db; }
        .dash-user .link-button { color: #f9fafb; width: auto; }
        .dash-nav { display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; padding: 0.5rem 1.25rem; background: #fff; border-bottom: 1px solid #e5e7eb; }
        .dash-nav a { color: var(--text); text-decoration: none; padding: 0.25rem 0; }
        .dash-nav a[aria-current=page] { font-weight: 700; border-bottom: 3px solid var(--brand); }
        .dash-main { max-width: 64rem; margin: 0 auto; padding: 1.25rem; }
        .dash-main h2 { font-size: 1.125rem; margin: 1.5rem 0 0.5rem; }
        .panel { background: #fff; border-radius: 0.75rem; padding: 1rem 1.25rem; margin-bottom: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
        .panel h2 { margin-top: 0; }
        .form-grid { display: grid; gap: 0.25rem; max-width: 32rem; }
        .form-grid button { width: auto; justify-self: start; margin-top: 0.5rem; }
        .inline { display: inline; }
        .search { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin-bottom: 1rem; }
        .search input { flex: 1 1 14rem; margin: 0; }
        .search button { width: auto; }
        input[type=search], input[type=password], input[type=number], input[type=url], select { display: block; width: 100%;
            margin: 0.25rem 0 0.75rem; padding: 0.625rem; font: inherit; border: 1px solid #d1d5db; border-radius: 0.5rem; background: #fff; }
        .table-wrap { overflow-x: auto; }
        table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 0.5rem; }
        th, td { text-align: left; padding: 0.5rem 0.75rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
        th { font-size: 0.875rem; color: #374151; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.875em; word-break: break-all; }
        .key { font-size: 1.125rem; letter-spacing: 0.05em; }
        .tag { font-size: 0.75rem; background: #e0e7ff; color: #3730a3; padding: 0.1rem 0.4rem; border-radius: 0.25rem; }
        .status { font-size: 0.8125rem; padding: 0.1rem 0.5rem; border-radius: 999px; background: #e5e7eb; }
        .status-active { background: #dcfce7; color: #166534; }
        .status-consumed { background: #e0e7ff; color: #3730a3; }
        .status-revoked, .status-expired { background: #fee2e2; color: #991b1b; }
        .crumbs { margin: 0 0 0.5rem; }
        .button-link { display: inline-block; padding: 0.625rem 1rem; border-radius: 0.5rem; border: 2px solid #d1d5db; font-weight: 600;
                       text-decoration: none; color: var(--text); background: #fff; }
        .button-link.primary { background: var(--brand); border-color: var(--brand); color: #fff; }
        .warning { background: #fef3c7; padding: 0.5rem 0.75rem; border-radius: 0.5rem; font-size: 0.9375rem; }
        .copy-row { display: flex; gap: 0.5rem; align-items: center; }
        .copy-row input { margin: 0; font-family: ui-monospace, monospace; }
        .copy-row button { width: auto; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        dialog { border: 0; border-radius: 0.75rem; padding: 1.25rem 1.5rem; max-width: 34rem; width: calc(100% - 2rem);
                 box-shadow: 0 10px 30px rgba(0,0,0,.25); }
        dialog::backdrop { background: rgba(17,24,39,.5); }
        dialog h2 { margin-top: 0; }
        @media (max-width: 600px) { .dash-main { padding: 0.75rem; } .dash-user { margin-left: 0; } th, td { padding: 0.4rem; } }
        """

    /// The one script (see the type's comment).
    static let script = """
        // Cancelflow dashboard: progressive enhancement only; every page works without this file.
        document.addEventListener('DOMContentLoaded', function () {
          document.querySelectorAll('[data-dialog-open]').forEach(function (opener) {
            var dialog = document.getElementById(opener.getAttribute('data-dialog-open'));
            if (!dialog || typeof dialog.showModal !== 'function') return;
            opener.addEventListener('click', function (event) {
              event.preventDefault();
              dialog.showModal();
              var first = dialog.querySelector('input:checked') || dialog.querySelector('input, select, button');
              if (first) first.focus();
            });
          });
          document.querySelectorAll('[data-dialog-close]').forEach(function (button) {
            button.addEventListener('click', function () { button.closest('dialog').close(); });
          });
          document.querySelectorAll('input[data-warning]').forEach(function (box) {
            var warning = document.getElementById(box.getAttribute('data-warning'));
            var update = function () { if (warning) warning.hidden = box.checked; };
            box.addEventListener('change', update);
            update();
          });
          var status = document.getElementById('copy-status');
          var copy = function (text) {
            if (!navigator.clipboard) return Promise.reject(new Error('no clipboard'));
            return navigator.clipboard.writeText(text).then(function () { if (status) status.textContent = 'Copied to your clipboard.'; });
          };
          document.querySelectorAll('[data-copy]').forEach(function (button) {
            var field = document.getElementById(button.getAttribute('data-copy'));
            button.hidden = false;
            button.addEventListener('click', function () {
              copy(field.value).catch(function () { field.select(); if (status) status.textContent = 'Press Ctrl+C (or ⌘C) to copy.'; });
            });
          });
          var auto = document.querySelector('[data-autocopy]');
          if (auto) { auto.select(); copy(auto.value).catch(function () {}); }
        });
        """
}
