/*
 * validate.c - checks that turn pattern candidates into findings: Luhn and
 * issuer ranges for cards, SSN area/group/serial rules, IBAN country length
 * and mod-97, IPv4/IPv6 parsing, calendar dates, e-mail shape, phone digit
 * counts, and the look-behind for context words ("born", "ssn").
 */
#include "scan/scan_int.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/banned.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static size_t digits_of(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (is_digit(s[i])) {
			if (n == cap)
				return cap + 1;
			out[n++] = s[i];
		}
	return n;
}

static unsigned num(const char *d, size_t n)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(d[i] - '0');
	return v;
}

/* issuer prefix and length (IIN ranges of the card networks) */
static int issuer_ok(const char *d, size_t n)
{
	unsigned p1 = num(d, 1), p2 = num(d, 2), p3 = num(d, 3), p4 = num(d, 4);
	unsigned p6 = num(d, 6);
	if (p1 == 4)                                   /* Visa */
		return n == 13 || n == 16 || n == 19;
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) /* Mastercard */
		return n == 16;
	if (p2 == 34 || p2 == 37)                      /* Amex */
		return n == 15;
	if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 ||
	    (p6 >= 622126 && p6 <= 622925))            /* Discover */
		return n >= 16 && n <= 19;
	if (p4 >= 3528 && p4 <= 3589)                  /* JCB */
		return n >= 16 && n <= 19;
	if (p4 == 2131 || p4 == 1800)                  /* JCB (old) */
		return n == 15;
	if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39 ||
	    p4 == 3095)                                /* Diners */
		return n >= 14 && n <= 19;
	if (p2 == 62 || p2 == 81)                      /* UnionPay */
		return n >= 16 && n <= 19;
	if (p4 >= 2200 && p4 <= 2204)                  /* Mir */
		return n >= 16 && n <= 19;
	if (p2 == 50 || (p2 >= 56 && p2 <= 69))        /* Maestro */
		return n >= 12 && n <= 19;
	return 0;
}

int sg_scan_luhn_card(const char *s, size_t len)
{
	return sg_scan_luhn_any(s, len) == 2;
}

/* 0: not a Luhn-valid number of card length; 1: valid but outside every
 * issuer range; 2: valid and inside one. */
int sg_scan_luhn_any(const char *s, size_t len)
{
	char d[24];
	size_t n = digits_of(s, len, d, 19);
	if (n < 12 || n > 19)
		return 0;
	/* groups must be separated the same way: "4111 1111-1111 1111" is
	 * still a card, but a run of small numbers ("12 13 14 ...") is not */
	unsigned sum = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');
		if (i & 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	if (sum % 10)
		return 0;
	int same = 1;
	for (size_t i = 1; i < n; i++)
		same &= d[i] == d[0];
	if (same)
		return 0;
	return issuer_ok(d, n) ? 2 : 1;
}

int sg_scan_ssn_ok(const char *s, size_t len, int bare)
{
	char d[12];
	if (digits_of(s, len, d, 9) != 9)
		return 0;
	if (!bare) { /* both separators the same */
		if (len != 11 || s[3] != s[6])
			return 0;
	}
	unsigned area = num(d, 3), group = num(d + 3, 2), serial = num(d + 5, 4);
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	/* advertising and well-known invalid numbers */
	if (memcmp(d, "078051120", 9) == 0 || memcmp(d, "219099999", 9) == 0 ||
	    memcmp(d, "123456789", 9) == 0)
		return 0;
	return 1;
}

static const struct { char cc[3]; unsigned char len; } iban_len[] = {
	{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
	{"BE", 16}, {"BG", 22}, {"BH", 22}, {"BR", 29}, {"BY", 28}, {"CH", 21},
	{"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DK", 18}, {"DO", 28},
	{"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18}, {"FO", 18}, {"FR", 27},
	{"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27}, {"GT", 28},
	{"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26},
	{"IT", 27}, {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32},
	{"LI", 21}, {"LT", 20}, {"LU", 20}, {"LV", 21}, {"MC", 27}, {"MD", 24},
	{"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NL", 18},
	{"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25}, {"QA", 29},
	{"RO", 24}, {"RS", 22}, {"SA", 24}, {"SC", 31}, {"SE", 24}, {"SI", 19},
	{"SK", 24}, {"SM", 27}, {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24},
	{"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20},
};

int sg_scan_iban_ok(const char *s, size_t len)
{
	char c[40];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if (n == 34)
			return 0;
		char ch = s[i];
		if (ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 32);
		c[n++] = ch;
	}
	if (n < 15)
		return 0;
	size_t want = 0;
	for (size_t i = 0; i < sizeof(iban_len) / sizeof(iban_len[0]); i++)
		if (c[0] == iban_len[i].cc[0] && c[1] == iban_len[i].cc[1])
			want = iban_len[i].len;
	if (want != n)
		return 0;
	unsigned rem = 0;
	for (size_t k = 0; k < n; k++) {
		char ch = c[(k + 4) % n];
		if (is_digit(ch))
			rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
		else if (ch >= 'A' && ch <= 'Z')
			rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
		else
			return 0;
	}
	return rem == 1;
}

int sg_scan_ipv4_ok(const char *t, size_t tlen, size_t from, size_t to)
{
	/* part of a longer dotted run (a version "1.2.3.4.5", an OID)? */
	if (from >= 2 && t[from - 1] == '.' && is_digit(t[from - 2]))
		return 0;
	if (to + 1 < tlen && t[to] == '.' && is_digit(t[to + 1]))
		return 0;
	unsigned v = 0, parts = 0, ndig = 0;
	for (size_t i = from; i <= to; i++) {
		if (i == to || t[i] == '.') {
			if (ndig == 0 || v > 255)
				return 0;
			parts++;
			v = 0;
			ndig = 0;
		} else {
			v = v * 10 + (unsigned)(t[i] - '0');
			ndig++;
		}
	}
	return parts == 4;
}

int sg_scan_ipv6_ok(const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];
	if (len < 3 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = 0;
	unsigned hex = 0, colons = 0;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == ':')
			colons++;
		else
			hex++;
	}
	if (colons < 2 || hex < 3)
		return 0;
	return inet_pton(AF_INET6, buf, addr) == 1;
}

static const char *const phone_words[] = {
	"phone", "call", "tel", "tel.", "telephone", "mobile", "cell", "fax",
	"number", "reach me", "contact", "whatsapp", "sms", "text me", "dial",
	"ring", "landline", "messages to", "answering at", "no.", "#", NULL,
};

int sg_scan_phone_ok(const char *t, size_t tlen, size_t from, size_t to)
{
	char d[24];
	/* the number without its extension ("x769", "ext. 12") */
	size_t core = from;
	while (core < to && t[core] != 'x' && t[core] != 'X' && t[core] != 'e' &&
	       t[core] != 'E' && t[core] != '#')
		core++;
	while (core > from && (t[core - 1] == ' ' || t[core - 1] == ','))
		core--;
	to = core;
	size_t n = digits_of(t + from, to - from, d, 16);
	(void)tlen;
	if (n < 7 || n > 15)
		return 0;
	int plus = t[from] == '+', paren = 0, seps = 0, slash = 0;
	for (size_t i = from; i < to; i++) {
		paren |= t[i] == '(';
		seps += t[i] == ' ' || t[i] == '-' || t[i] == '.';
		slash |= t[i] == '/';
	}
	if (slash)
		return 0;
	/* a date and time ("1992-11-12 07:04") */
	if (to < tlen && t[to] == ':')
		return 0;
	if (to - from >= 10 && is_digit(t[from]) && t[from + 4] == '-' &&
	    t[from + 7] == '-')
		return 0;
	/* a year range or two years ("1990-2005", "2019 2020") */
	if (n == 8 && !plus && !paren && (d[0] == '1' || d[0] == '2') &&
	    (d[4] == '1' || d[4] == '2') && (num(d, 2) == 19 || num(d, 2) == 20) &&
	    (num(d + 4, 2) == 19 || num(d + 4, 2) == 20))
		return 0;
	if (plus || paren)
		return 1;
	/* one separator: a trunk prefix ("0341 8387176") or a phone word
	 * ("order 2024 123456" is not a phone) */
	if (n >= 10 && (seps >= 2 || (seps == 1 && d[0] == '0')))
		return 1;
	/* short or unseparated: only with a phone word before it */
	return sg_scan_context_before(t, from, 32, phone_words);
}

int sg_scan_email_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	if (!at || at == s)
		return 0;
	for (const char *p = at + 1; p + 1 < s + len; p++)
		if (p[0] == '.' && p[1] == '.')
			return 0;
	return 1;
}

static int leap(unsigned y) { return (y % 4 == 0 && y % 100) || y % 400 == 0; }

static int ymd_ok(unsigned y, unsigned m, unsigned d)
{
	static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 100)
		y += y < 30 ? 2000 : 1900;
	if (y < 1900 || y > 2030 || m < 1 || m > 12 || d < 1)
		return 0;
	if (m == 2 && d == 29)
		return leap(y);
	return d <= mdays[m - 1];
}

static int month_of(const char *s, size_t len)
{
	static const char names[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};
	for (size_t i = 0; i + 3 <= len; i++)
		for (int m = 0; m < 12; m++)
			if (lower(s[i]) == names[m][0] && lower(s[i + 1]) == names[m][1] &&
			    lower(s[i + 2]) == names[m][2])
				return m + 1;
	return 0;
}

int sg_scan_date_ok(const char *s, size_t len)
{
	unsigned v[3] = {0, 0, 0}, nd[3] = {0, 0, 0};
	int k = 0;
	for (size_t i = 0; i < len && k < 3; i++) {
		if (is_digit(s[i])) {
			v[k] = v[k] * 10 + (unsigned)(s[i] - '0');
			nd[k]++;
		} else if (nd[k]) {
			k++;
		}
	}
	int mon = month_of(s, len);
	if (mon) { /* "12 March 1980" or "March 12, 1980" */
		unsigned day = v[0], year = v[1];
		if (nd[0] == 4) { day = 0; }
		return ymd_ok(year, (unsigned)mon, day);
	}
	if (nd[0] == 4)
		return ymd_ok(v[0], v[1], v[2]);
	/* d/m/y or m/d/y: either reading */
	return ymd_ok(v[2], v[1], v[0]) || ymd_ok(v[2], v[0], v[1]);
}

int sg_scan_context_before(const char *t, size_t at, size_t window,
			   const char *const *words)
{
	size_t lo = at > window ? at - window : 0;
	for (const char *const *w = words; *w; w++) {
		size_t wl = strlen(*w);
		for (size_t end = at; end >= lo + wl; end--) {
			size_t b = end - wl;
			size_t k = 0;
			while (k < wl && lower(t[b + k]) == (*w)[k])
				k++;
			if (k == wl) {
				/* whole word: not inside a longer word */
				char pre = b ? lower(t[b - 1]) : ' ';
				char post = lower(t[end]);
				if (!(pre >= 'a' && pre <= 'z') &&
				    !(post >= 'a' && post <= 'z'))
					return 1;
			}
			if (end == 0)
				break;
		}
	}
	return 0;
}

void sg_scan_canon(struct sg_buf *out, int type, const char *s, size_t len)
{
	sg_buf_reset(out);
	int digits = type == SG_T_PHONE || type == SG_T_CREDIT_CARD ||
		     type == SG_T_SSN || type == SG_T_IBAN || type == SG_T_DATE_OF_BIRTH;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (digits && !is_digit(c) && !((c | 32) >= 'a' && (c | 32) <= 'z'))
			continue;
		if (!digits && (c == ' ' || c == '\n' || c == '\t')) {
			if (out->len && out->data[out->len - 1] == ' ')
				continue;
			c = ' ';
		}
		sg_buf_addc(out, lower(c));
	}
}

static size_t host_of(const char *u, size_t len, size_t *hstart)
{
	size_t i = 0;
	const char *sl = NULL;
	for (size_t k = 0; k + 2 < len; k++)
		if (u[k] == ':' && u[k + 1] == '/' && u[k + 2] == '/') {
			sl = u + k + 3;
			break;
		}
	i = sl ? (size_t)(sl - u) : 0;
	*hstart = i;
	while (i < len && u[i] != '/' && u[i] != ':' && u[i] != '?' && u[i] != '#')
		i++;
	return i - *hstart;
}

static int ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

int sg_scan_url_allowed(const char *url, size_t len, const char *const *allow,
			size_t nallow)
{
	size_t uh, ul = host_of(url, len, &uh);
	for (size_t i = 0; i < nallow; i++) {
		const char *a = allow[i];
		size_t al = strlen(a);
		if (al == 0)
			continue;
		if (memchr(a, '/', al)) { /* a URL prefix */
			if (al <= len && ieq(url, a, al))
				return 1;
			/* "https://x/" also allows "http://x/..." and bare "x/" */
			size_t ah, ahl = host_of(a, al, &ah);
			if (ahl && ahl == ul && ieq(url + uh, a + ah, ahl) &&
			    al - ah - ahl <= len - uh - ul &&
			    ieq(url + uh + ul, a + ah + ahl, al - ah - ahl))
				return 1;
		} else if (ul >= al && ieq(url + uh + ul - al, a, al) &&
			   (ul == al || url[uh + ul - al - 1] == '.')) {
			return 1; /* a host and its subdomains */
		}
	}
	return 0;
}
