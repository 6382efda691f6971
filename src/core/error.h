/*
 * error.h - one list of error codes for all of sopgate.
 *
 * SG_ERROR_LIST generates the enum, the JSON "code" string, the HTTP status
 * and the short text, so the four can never drift apart. Functions return 0
 * or a negative SG_E... and take `struct sg_error *err` last; the first error
 * set on a struct wins, so a vague later failure never buries the cause.
 */
#ifndef SG_CORE_ERROR_H
#define SG_CORE_ERROR_H

#include <stdarg.h>

/*     name            http  json code            text */
#define SG_ERROR_LIST(X)                                                       \
	X(OK,              200, "ok",               "success")                 \
	X(NOMEM,           500, "out_of_memory",    "out of memory")           \
	X(INVALID,         400, "invalid_argument", "invalid argument")        \
	X(IO,              500, "io_error",         "input/output error")      \
	X(UTF8,            400, "invalid_utf8",     "invalid UTF-8")           \
	X(JSON,            400, "invalid_json",     "invalid JSON")            \
	X(POLICY,          422, "policy_invalid",   "invalid policy")          \
	X(MODEL,           500, "model_invalid",    "invalid model file")      \
	X(NOTFOUND,        404, "not_found",        "not found")               \
	X(CONFLICT,        409, "conflict",         "conflict")                \
	X(UNAUTHORIZED,    401, "unauthorized",     "unauthorized")            \
	X(FORBIDDEN,       403, "forbidden",        "forbidden")               \
	X(LIMIT,           413, "limit_exceeded",   "limit exceeded")          \
	X(RATE,            429, "rate_limited",     "rate limited")            \
	X(METHOD,          405, "method_not_allowed", "method not allowed")    \
	X(BACKEND,         502, "backend_error",    "backend error")           \
	X(TIMEOUT,         504, "timeout",          "timed out")               \
	X(STORE,           500, "store_error",      "storage error")           \
	X(INTERNAL,        500, "internal",         "internal error")

enum sg_error_code {
#define SG_X_ENUM(name, http, code, text) SG_E##name,
	SG_ERROR_LIST(SG_X_ENUM)
#undef SG_X_ENUM
	SG_E__COUNT
};

/* Functions return 0 or the negated code: return -SG_EINVALID. */

struct sg_error {
	int code;          /* enum sg_error_code, positive; 0 when unset */
	unsigned line, col; /* 1-based location in `file`, 0 when unknown */
	char file[256];    /* source the error points into, may be empty */
	char msg[400];     /* complete message, printable as is */
};

#define SG_ERROR_INIT {0, 0, 0, "", ""}

/* Sets err (if non-NULL and still unset) and returns -code. */
int sg_error_set(struct sg_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with a location. */
int sg_error_setloc(struct sg_error *err, int code, const char *file,
		    unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void sg_error_clear(struct sg_error *err);

const char *sg_error_name(int code);  /* "invalid_json"; accepts -code too */
const char *sg_error_text(int code);  /* "invalid JSON" */
int sg_error_http(int code);          /* 400 */

/* Formats "file:line:col: msg" (or just msg) into buf. */
const char *sg_error_format(const struct sg_error *err, char *buf, unsigned size);

/* Aborts with a message: for broken invariants only, never for input. */
#define SG_BUG(msg) sg_bug(__FILE__, __LINE__, (msg))
_Noreturn void sg_bug(const char *file, int line, const char *msg);

#endif
