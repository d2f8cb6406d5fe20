/** A bearer token, or a function giving the current one (none: the call is anonymous). */
export type TokenSource =
  | string
  | (() => string | null | undefined | Promise<string | null | undefined>);

/** Options of a {@link Client}. */
export interface ClientOptions {
  /** Where the API is served, e.g. `https://example.com/app/api`; the document's server URL by default. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <token>` on every call. */
  token?: TokenSource;
  /** The `fetch` to call; the global one by default. */
  fetch?: typeof fetch;
  /** Headers sent on every call. */
  headers?: HeadersInit;
}

/** A response outside 2xx: its status, and its body typed by the document's error responses. */
export class ApiError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The body parsed as JSON; undefined when it was empty or not JSON (see `text`). */
  readonly body: ApiErrorBody | undefined;
  /** The body as received. */
  readonly text: string;
  /** The response's headers. */
  readonly headers: Headers;

  constructor(method: string, url: string, status: number, body: ApiErrorBody | undefined, text: string, headers: Headers) {
    super(`${method} ${url}: HTTP ${status}`);
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.text = text;
    this.headers = headers;
  }
}

/** How a call reads a successful response. */
export type ResponseKind = "json" | "blob" | "none";

/** A typed client of the API: one method per operation. */
export class Client {
  private readonly _options: ClientOptions;
  private readonly _fetch: typeof fetch;

  /** A client calling `options.baseUrl` (the document's server URL by default). */
  constructor(options: ClientOptions = {}) {
    this._options = options;
    this._fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Send one request; throw {@link ApiError} on a status outside 2xx. For subclasses
   * adding calls the document lacks. */
  protected async _request<T>(
    method: string,
    path: string,
    query: object | undefined,
    body: unknown,
    media: string | undefined,
    kind: ResponseKind,
    init: RequestInit | undefined,
  ): Promise<T> {
    let url = (this._options.baseUrl ?? serverUrl).replace(/\/+$/, "") + path;
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (v !== undefined) search.append(key, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
      }
    }
    const qs = search.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
    const headers = new Headers(this._options.headers);
    new Headers(init?.headers).forEach((value, key) => headers.set(key, value));
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    const source = this._options.token;
    const token = typeof source === "function" ? await source() : source;
    if (token) headers.set("Authorization", `Bearer ${token}`);
    let payload: BodyInit | null = null;
    if (body !== undefined && media !== undefined) {
      if (media === "application/json" || media.endsWith("+json")) {
        payload = JSON.stringify(body);
      } else {
        payload = body as BodyInit;
      }
      // A multipart body sets its own type (with its boundary).
      if (media !== "multipart/form-data") headers.set("Content-Type", media);
    }
    const res = await this._fetch(url, { ...init, method, headers, body: payload });
    if (!res.ok) {
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      throw new ApiError(method, url, res.status, parsed as ApiErrorBody | undefined, text, res.headers);
    }
    if (kind === "blob") return (await res.blob()) as T;
    const text = kind === "none" ? "" : await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
/*@operations@*/}
