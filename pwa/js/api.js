// JSON over the same origin with the session cookie. One error type for every failure.

export const API = '/api/v1';

export class ApiError extends Error {
  constructor(status, message, body = {}) {
    super(message);
    this.status = status;
    this.body = body;
    this.errors = body.errors?.json ?? body.errors ?? {};
  }
}

// a request that never reached the server (offline, DNS, reset)
export class NetworkError extends Error {}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function send(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (err) {
    throw new NetworkError(err.message || 'offline');
  }
  if (response.status === 204) return { data: null, response };
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/auth/login')) onUnauthorized();
    throw new ApiError(response.status, data.message || response.statusText, data);
  }
  return { data, response };
}

export const request = async (method, path, body) => (await send(method, path, body)).data;

// A GET whose words the server chose by language (the account's): the answer, and the
// language it says they are in (Content-Language); English, its source language, when
// it names none.
export async function getInLanguage(path) {
  const { data, response } = await send('GET', path);
  const language = (response.headers.get('Content-Language') || 'en').split(/[-_,\s]/)[0].toLowerCase();
  return { data, language };
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});
export const put = (path, body) => request('PUT', path, body);
export const del = (path, body) => request('DELETE', path, body);
