/* Guard for POSIX extended regular expressions that come from peers or users
 * (LOOKUP by regex, ldms_ls, config regex= attributes): glibc's regcomp expands
 * bounded repetitions by copying the sub-expression, so nested bounds such as
 * ((a{1,255}){1,255}){1,255} take minutes and gigabytes. The check estimates
 * the expanded size and refuses back-references (exponential regexec). */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <string.h>

#include "ldms/ldms_util.h"

#define RX_LEN_MAX   4096
#define RX_COST_MAX  20000.0
#define RX_DEPTH_MAX 64

struct rx {
	const char *p;
	int depth;
	int err; /* 0, or -EINVAL with msg filled */
	const char *msg;
};

static double rx_alt(struct rx *r);

/* [...] bracket expression; p at '['. Character classes ([:alpha:] etc.) may
 * contain ']' before the closing one. */
static void rx_bracket(struct rx *r)
{
	const char *p = r->p + 1;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char close = p[1];
			const char *e = p + 2;
			while (*e && !(e[0] == close && e[1] == ']'))
				e++;
			p = *e ? e + 2 : e;
			continue;
		}
		p++;
	}
	r->p = *p ? p + 1 : p;
}

/* {m}, {m,}, {m,n} at r->p; 0 and *max set if it is one, else r->p unchanged. */
static int rx_bound(struct rx *r, double *max)
{
	const char *p = r->p + 1;
	double m = 0, n = -1;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p) && m < 1e9)
		m = m * 10 + (*p++ - '0');
	if (*p == ',') {
		p++;
		if (isdigit((unsigned char)*p)) {
			n = 0;
			while (isdigit((unsigned char)*p) && n < 1e9)
				n = n * 10 + (*p++ - '0');
		} else {
			n = m + 1; /* {m,}: m copies and a star */
		}
	} else {
		n = m;
	}
	if (*p != '}')
		return -1;
	r->p = p + 1;
	*max = n > m ? n : m;
	return 0;
}

static double rx_atom(struct rx *r)
{
	double c;

	switch (*r->p) {
	case '(':
		if (++r->depth > RX_DEPTH_MAX) {
			r->err = -EINVAL;
			r->msg = "parentheses nested too deeply";
			return 0;
		}
		r->p++;
		c = rx_alt(r) + 1;
		if (*r->p == ')')
			r->p++;
		r->depth--;
		return c;
	case '[':
		rx_bracket(r);
		return 1;
	case '\\':
		r->p++;
		if (*r->p >= '1' && *r->p <= '9') {
			r->err = -EINVAL;
			r->msg = "back-references are not supported";
			return 0;
		}
		if (*r->p)
			r->p++;
		return 1;
	default:
		r->p++;
		return 1;
	}
}

static double rx_branch(struct rx *r)
{
	double sum = 0, c, max;

	while (*r->p && *r->p != '|' && !(*r->p == ')' && r->depth > 0) && !r->err) {
		c = rx_atom(r);
		for (;;) {
			if (*r->p == '*' || *r->p == '+' || *r->p == '?') {
				c = c * 2 + 1;
				r->p++;
			} else if (*r->p == '{' && rx_bound(r, &max) == 0) {
				c = c * (max > 1 ? max : 1) + 1;
			} else {
				break;
			}
		}
		sum += c;
		if (sum > RX_COST_MAX) {
			r->err = -EINVAL;
			r->msg = "too complex (nested or large repetition counts)";
			return sum;
		}
	}
	return sum;
}

static double rx_alt(struct rx *r)
{
	double sum = rx_branch(r);

	while (*r->p == '|' && !r->err) {
		r->p++;
		sum += rx_branch(r);
		if (sum > RX_COST_MAX && !r->err) {
			r->err = -EINVAL;
			r->msg = "too complex (nested or large repetition counts)";
		}
	}
	return sum;
}

int ldms_regex_check(const char *pattern, struct ldms_err *err)
{
	struct rx r = {.p = pattern};

	if (!pattern)
		return ldms_err_set(err, -EINVAL, "no regular expression");
	if (strlen(pattern) > RX_LEN_MAX)
		return ldms_err_set(err, -EINVAL, "regular expression longer than %d characters",
				    RX_LEN_MAX);
	while (*r.p && !r.err) {
		rx_alt(&r);
		if (*r.p == ')') /* unbalanced: literal for the estimate, regcomp decides */
			r.p++;
	}
	if (r.err) {
		char shown[65];
		size_t i;

		/* the pattern may come from a peer: no control bytes into a log line */
		for (i = 0; i < 64 && pattern[i]; i++)
			shown[i] = (unsigned char)pattern[i] < 0x20 || pattern[i] == 0x7f
				       ? '?'
				       : pattern[i];
		shown[i] = 0;
		return ldms_err_set(err, r.err, "regular expression '%s%s' refused: %s", shown,
				    strlen(pattern) > 64 ? "..." : "", r.msg);
	}
	return 0;
}

int ldms_regcomp(regex_t *re, const char *pattern, int cflags)
{
	if (ldms_regex_check(pattern, NULL))
		return REG_ESIZE;
	return regcomp(re, pattern, cflags);
}
