// Drives the generated Sim-Flow client against a live server (crates/plinth/tests/typegen.rs
// puts `simflow.ts` beside this file, compiles both with tsc and runs the result with node).
// Exits non-zero at the first mismatch.
import { ApiError, Client, type Users } from "./simflow";

declare const process: {
  env: Record<string, string | undefined>;
  exit(code: number): never;
};

function check(ok: boolean, what: string, got?: unknown): void {
  if (!ok) {
    console.error(`FAIL: ${what}${got === undefined ? "" : `; got ${JSON.stringify(got)}`}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

/** The ApiError `call` throws, or a failure if it succeeds or throws something else. */
async function apiError(call: () => Promise<unknown>, what: string): Promise<ApiError> {
  try {
    const got = await call();
    check(false, `${what}: expected an ApiError`, got);
  } catch (e) {
    if (e instanceof ApiError) return e;
    check(false, `${what}: expected an ApiError`, String(e));
  }
  throw new Error("unreachable");
}

// Never called: tsc must reject these calls, or the types are not checking anything.
export function typesAreEnforced(client: Client): void {
  // @ts-expect-error `name` is a string
  void client.createUsers({ name: 5, email: "a@example.com" });
  // @ts-expect-error `email` is required
  void client.createUsers({ name: "No email" });
  // @ts-expect-error the priority is one of Low, Medium, High
  void client.listRequests({ priority: "Urgent" });
}

async function main(): Promise<void> {
  const baseUrl = process.env["PLINTH_BASE_URL"];
  const token = process.env["PLINTH_TOKEN"];
  check(baseUrl !== undefined && token !== undefined, "PLINTH_BASE_URL and PLINTH_TOKEN are set");

  // Without a token: the typed 401 in the app's error style.
  const anonymous = new Client({ baseUrl: baseUrl! });
  const denied = await apiError(() => anonymous.authMe(), "auth/me without a token");
  check(denied.status === 401, "401 without a token", denied.status);
  check(denied.body?.error?.code === "UNAUTHENTICATED", "UNAUTHENTICATED code", denied.body);

  // The token as a function, as a frontend holding a refreshable one would pass it.
  const client = new Client({ baseUrl: baseUrl!, token: () => token });

  const created = await client.createUsers({ name: "Ada", email: "ada@example.com", role: "ENGINEER" });
  const ada: Users | undefined = created.user;
  check(ada !== undefined && typeof ada.id === "string", "create answers the record under `user`", created);
  check(ada?.email === "ada@example.com" && ada.avatar_url === null, "the created record's fields", ada);
  const id = ada!.id;

  const list = await client.listUsers({ role: "ENGINEER", limit: 10, sort: "-created_at" });
  check(list.users?.some((u) => u.id === id) === true, "list finds the created user", list);
  check(list.meta?.total === 1 && list.meta.limit === 10, "list meta", list.meta);

  const one = await client.getUsers(id);
  check(one.user?.name === "Ada", "get by id", one);

  const invalid = await apiError(
    () => client.createUsers({ name: "Bob", email: "not-an-email" }),
    "creating with a bad email",
  );
  check(invalid.status === 400, "400 for a bad email", invalid.status);
  check(invalid.body?.success === false, "error envelope: success false", invalid.body);
  check(invalid.body?.error?.code === "VALIDATION_ERROR", "VALIDATION_ERROR code", invalid.body);
  const emailErrors = invalid.body?.error?.details?.fieldErrors?.["email"];
  check(Array.isArray(emailErrors) && emailErrors.length > 0, "the email field is named", invalid.body);
  check(invalid.text.includes("VALIDATION_ERROR") && invalid.headers.has("x-request-id"), "raw text and headers kept");

  const gone = await client.deleteUsers(id);
  check(gone === undefined, "delete answers nothing", gone);
  const missing = await apiError(() => client.getUsers(id), "getting a deleted user");
  check(missing.status === 404 && missing.body?.error?.code === "NOT_FOUND", "404 NOT_FOUND after delete", missing.body);
}

main().catch((e: unknown) => {
  console.error("FAIL:", e);
  process.exit(1);
});
