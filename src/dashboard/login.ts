// The login page: sends the token once to POST /api/v1/session, which sets the session cookie.
const form = document.getElementById('login') as HTMLFormElement;
const input = document.getElementById('token') as HTMLInputElement;
const problem = document.getElementById('login-error') as HTMLParagraphElement;

function show(message: string): void {
  problem.textContent = message;
  problem.hidden = false;
}

// A Secure cookie is only kept on https (or localhost): say so instead of failing silently.
if (!window.isSecureContext) {
  show(
    'This page is not served over HTTPS, so the browser will not keep the login. Open it through https://.',
  );
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  problem.hidden = true;
  void fetch('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: input.value }),
  })
    .then(async (res) => {
      if (res.ok) return location.replace('/');
      const body = (await res.json().catch(() => ({}))) as { message?: string };
      show(body.message ?? `login failed (HTTP ${res.status})`);
    })
    .catch(() => show('the server did not answer; is taskops serve running?'));
});
