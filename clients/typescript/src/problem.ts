import type { components } from "./generated/schema.js";

export type ProblemDetails = components["schemas"]["ProblemDetails"];
export type FieldError = components["schemas"]["FieldError"];

const PROBLEM_TYPE = "application/problem+json";

/**
 * Every error answer of the API (RFC 9457 problem+json) as one typed error:
 * branch on `code` (stable, e.g. `token-expired`, `contract-not-found`), show
 * `detail`, map `errors` onto form fields. A non-problem failure (a proxy's
 * HTML page, a dropped connection's empty body) becomes one too, with
 * `code` `http-<status>`.
 */
export class ApiProblem extends Error {
  readonly type: string;
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly FieldError[];
  readonly instance: string | null;
  /** The whole body, with the problem's extensions (`retryAfter`, `reason`, …). */
  readonly body: Readonly<Record<string, unknown>>;

  constructor(problem: ProblemDetails & Record<string, unknown>) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.name = "ApiProblem";
    this.type = problem.type;
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.instance = problem.instance ?? null;
    this.body = problem;
  }

  /**
   * The problem an error answer carries: `parsed`, the body openapi-fetch
   * already read (its `error`), else `response`'s body, read here.
   */
  static async from(response: Response, parsed?: unknown): Promise<ApiProblem> {
    if (isProblem(parsed)) {
      return new ApiProblem(parsed);
    }
    const text = response.bodyUsed
      ? typeof parsed === "string"
        ? parsed
        : ""
      : await response.text();
    if ((response.headers.get("content-type") ?? "").startsWith(PROBLEM_TYPE)) {
      try {
        const body: unknown = JSON.parse(text);
        if (isProblem(body)) {
          return new ApiProblem(body);
        }
      } catch {
        // not JSON after all: described below
      }
    }
    return new ApiProblem({
      type: "about:blank",
      status: response.status,
      code: `http-${response.status}`,
      title: response.statusText || "Request failed",
      detail: text.slice(0, 500),
    });
  }
}

function isProblem(value: unknown): value is ProblemDetails & Record<string, unknown> {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const fields: Record<string, unknown> = { ...value };
  return (
    typeof fields.type === "string" &&
    typeof fields.status === "number" &&
    typeof fields.code === "string" &&
    typeof fields.title === "string" &&
    typeof fields.detail === "string"
  );
}

/** Whether an error answer is a problem with this `code` (reads a clone). */
export async function hasCode(response: Response, code: string): Promise<boolean> {
  if (!(response.headers.get("content-type") ?? "").startsWith(PROBLEM_TYPE)) {
    return false;
  }
  try {
    const parsed: unknown = await response.clone().json();
    return isProblem(parsed) && parsed.code === code;
  } catch {
    return false;
  }
}
