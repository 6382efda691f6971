/*
 * webhook_map.c - Zendesk and Intercom webhook payloads to ticket events:
 * which events carry a customer message, where its text, ids, channel,
 * priority and customer are, and the errors naming a payload field when
 * the shape is wrong. Field facts from docs/integrations.md.
 */
#include "server/webhook_map.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "core/banned.h"

/* ---- helpers ------------------------------------------------------------ */

static int why_set(char why[SG_WEBHOOK_WHY_MAX], const char *fmt, const char *arg)
{
	snprintf(why, SG_WEBHOOK_WHY_MAX, fmt, arg);
	return 1;
}

/* An id that arrives as a string or an integer (Zendesk event payloads send
 * strings, its REST API integers): printable ASCII, 1..SG_WEBHOOK_ID_MAX. */
static int get_id(const json_t *obj, const char *key, const char *path,
		  char out[SG_WEBHOOK_ID_MAX + 1], struct sg_error *err)
{
	const json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return sg_error_set(err, SG_EINVALID, "field '%s': required", path);
	if (json_is_integer(v)) {
		snprintf(out, SG_WEBHOOK_ID_MAX + 1, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	}
	if (!json_is_string(v))
		return sg_error_set(err, SG_EINVALID, "field '%s': expected a string or an "
				    "integer, got %s", path, sg_json_type_name(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n == 0 || n > SG_WEBHOOK_ID_MAX)
		return sg_error_set(err, SG_EINVALID, "field '%s': expected 1 to %d characters",
				    path, SG_WEBHOOK_ID_MAX);
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return sg_error_set(err, SG_EINVALID, "field '%s': only printable ASCII "
					    "without spaces is accepted", path);
	memcpy(out, s, n + 1);
	return 0;
}

/* Optional object/string getters that treat JSON null as absent. */
static int opt_obj(const json_t *o, const char *key, const char *path, json_t **out,
		   struct sg_error *err)
{
	*out = NULL;
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 1;
	return sg_json_obj(o, key, path, 1, out, err);
}

static int opt_str(const json_t *o, const char *key, const char *path, const char **out,
		   struct sg_error *err)
{
	*out = NULL;
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 1;
	return sg_json_str(o, key, path, 1, out, err);
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return v ? json_object_set_new(o, key, json_string(v)) : 0;
}

/* ---- Zendesk ------------------------------------------------------------ */

static const char *zendesk_channel(const char *via)
{
	static const char *const map[][2] = {
		{"email", "email"}, {"web", "email"}, {"web_form", "email"}, {"api", "email"},
		{"chat", "chat"}, {"native_messaging", "chat"}, {"messaging", "chat"},
		{"web_widget", "in_app"}, {"mobile", "in_app"}, {"mobile_sdk", "in_app"},
		{"twitter", "social"}, {"facebook", "social"}, {"instagram_dm", "social"},
		{"whatsapp", "social"}, {"voice", "voice"}, {"phone", "voice"},
	};
	for (size_t i = 0; via && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(via, map[i][0]))
			return map[i][1];
	return "email";
}

static const char *zendesk_priority(const char *p)
{
	static const char *const map[][2] = {
		{"urgent", "P0"}, {"high", "P1"}, {"normal", "P2"}, {"low", "P3"},
	};
	for (size_t i = 0; p && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(p, map[i][0]))
			return map[i][1];
	return NULL;
}

#define ZD_PREFIX "zen:event-type:ticket."

int sg_webhook_zendesk_event(json_t **out, const json_t *payload,
			     char why[SG_WEBHOOK_WHY_MAX], struct sg_error *err)
{
	*out = NULL;
	why[0] = 0;
	const char *type = NULL, *time = NULL, *subject = NULL, *body = NULL;
	const char *status = NULL, *priority = NULL, *author_name = NULL;
	json_t *detail = NULL, *event = NULL, *comment = NULL, *via = NULL, *author = NULL;
	char eid[SG_WEBHOOK_ID_MAX + 1], tid[SG_WEBHOOK_ID_MAX + 1], cid[SG_WEBHOOK_ID_MAX + 1];
	int rc, has_cid = 0;

	if (!json_is_object(payload))
		return sg_error_set(err, SG_EINVALID, "payload: expected a JSON object");
	if ((rc = sg_json_str(payload, "type", "type", 1, &type, err)) < 0 ||
	    (rc = get_id(payload, "id", "id", eid, err)) < 0 ||
	    (rc = opt_str(payload, "time", "time", &time, err)) < 0)
		return rc;
	if (strncmp(type, ZD_PREFIX, strlen(ZD_PREFIX)))
		return why_set(why, "event type '%.100s' is not a ticket event", type);
	const char *what = type + strlen(ZD_PREFIX);
	if (strcmp(what, "created") && strcmp(what, "comment_added"))
		return why_set(why, "event type '%.100s' carries no customer message", type);

	if ((rc = sg_json_obj(payload, "detail", "detail", 1, &detail, err)) < 0 ||
	    (rc = get_id(detail, "id", "detail.id", tid, err)) < 0 ||
	    (rc = opt_str(detail, "subject", "detail.subject", &subject, err)) < 0 ||
	    (rc = opt_str(detail, "status", "detail.status", &status, err)) < 0 ||
	    (rc = opt_str(detail, "priority", "detail.priority", &priority, err)) < 0 ||
	    (rc = opt_obj(detail, "via", "detail.via", &via, err)) < 0)
		return rc;
	const json_t *req = json_object_get(detail, "requester_id");
	if (req && !json_is_null(req)) {
		if ((rc = get_id(detail, "requester_id", "detail.requester_id", cid, err)) < 0)
			return rc;
		has_cid = 1;
	}
	const char *via_channel = NULL;
	if (via && (rc = opt_str(via, "channel", "detail.via.channel", &via_channel, err)) < 0)
		return rc;

	if (!strcmp(what, "created")) {
		if ((rc = sg_json_str(detail, "description", "detail.description", 1, &body,
				      err)) < 0)
			return rc;
	} else {
		int is_staff = 0, is_public = 1;
		if ((rc = sg_json_obj(payload, "event", "event", 1, &event, err)) < 0 ||
		    (rc = sg_json_obj(event, "comment", "event.comment", 1, &comment, err)) < 0 ||
		    (rc = sg_json_str(comment, "body", "event.comment.body", 1, &body, err)) < 0 ||
		    (rc = sg_json_bool(comment, "is_public", "event.comment.is_public", 0,
				       &is_public, err)) < 0 ||
		    (rc = opt_obj(comment, "author", "event.comment.author", &author, err)) < 0)
			return rc;
		if (author &&
		    ((rc = sg_json_bool(author, "is_staff", "event.comment.author.is_staff", 0,
					&is_staff, err)) < 0 ||
		     (rc = opt_str(author, "name", "event.comment.author.name", &author_name,
				   err)) < 0))
			return rc;
		if (!is_public)
			return why_set(why, "%s: an internal note", "comment_added");
		if (is_staff)
			return why_set(why, "%s: a comment by staff (an agent's reply)",
				       "comment_added");
	}

	json_t *ev = json_object(), *cust = json_object(), *facts = json_object();
	char id[SG_WEBHOOK_ID_MAX + 16];
	snprintf(id, sizeof(id), "zendesk-%s", tid);
	int bad = !ev || !cust || !facts;
	bad = bad || set_str(ev, "id", id) || set_str(ev, "event_id", eid) ||
	      set_str(ev, "channel", zendesk_channel(via_channel)) ||
	      set_str(ev, "subject", subject) || set_str(ev, "body", body) ||
	      set_str(ev, "priority", zendesk_priority(priority)) ||
	      set_str(ev, "created_at", time);
	bad = bad || (has_cid && set_str(cust, "id", cid)) ||
	      set_str(cust, "name", author_name);
	/* a "vip" tag marks a VIP customer */
	json_t *tags = json_object_get(detail, "tags");
	size_t i;
	json_t *tag;
	json_array_foreach(tags, i, tag)
		if (json_is_string(tag) && !strcasecmp(json_string_value(tag), "vip"))
			bad = bad || json_object_set_new(cust, "vip", json_true());
	bad = bad || set_str(facts, "helpdesk", "zendesk") ||
	      set_str(facts, "helpdesk_status", status);
	if (bad || json_object_set(ev, "customer", cust) || json_object_set(ev, "facts", facts)) {
		json_decref(ev);
		json_decref(cust);
		json_decref(facts);
		return sg_error_set(err, SG_ENOMEM, "out of memory mapping the event");
	}
	json_decref(cust);
	json_decref(facts);
	*out = ev;
	return 0;
}

/* ---- Intercom ----------------------------------------------------------- */

static int is_contact(const json_t *author)
{
	const char *t = json_string_value(json_object_get(author, "type"));
	return t && (!strcmp(t, "user") || !strcmp(t, "lead") || !strcmp(t, "contact"));
}

int sg_webhook_intercom_event(json_t **out, const json_t *payload,
			      char why[SG_WEBHOOK_WHY_MAX], struct sg_error *err)
{
	*out = NULL;
	why[0] = 0;
	const char *type = NULL, *topic = NULL, *html = NULL, *state = NULL, *src_type = NULL;
	const char *subject = NULL;
	json_t *data = NULL, *item = NULL, *source = NULL, *author = NULL;
	char eid[SG_WEBHOOK_ID_MAX + 1], tid[SG_WEBHOOK_ID_MAX + 1];
	double created = 0;
	int rc;

	if (!json_is_object(payload))
		return sg_error_set(err, SG_EINVALID, "payload: expected a JSON object");
	if ((rc = sg_json_str(payload, "type", "type", 1, &type, err)) < 0)
		return rc;
	if (strcmp(type, "notification_event"))
		return sg_error_set(err, SG_EINVALID, "field 'type': expected "
				    "'notification_event', got '%.60s'", type);
	if ((rc = get_id(payload, "id", "id", eid, err)) < 0 ||
	    (rc = sg_json_str(payload, "topic", "topic", 1, &topic, err)) < 0 ||
	    (rc = sg_json_num(payload, "created_at", "created_at", 0, &created, err)) < 0)
		return rc;
	int created_topic = !strcmp(topic, "conversation.user.created");
	if (!created_topic && strcmp(topic, "conversation.user.replied"))
		return why_set(why, "topic '%.100s' carries no customer message", topic);
	if ((rc = sg_json_obj(payload, "data", "data", 1, &data, err)) < 0 ||
	    (rc = sg_json_obj(data, "item", "data.item", 1, &item, err)) < 0 ||
	    (rc = get_id(item, "id", "data.item.id", tid, err)) < 0 ||
	    (rc = opt_str(item, "state", "data.item.state", &state, err)) < 0 ||
	    (rc = opt_obj(item, "source", "data.item.source", &source, err)) < 0)
		return rc;
	if (source && ((rc = opt_str(source, "type", "data.item.source.type", &src_type,
				     err)) < 0 ||
		       (rc = opt_str(source, "subject", "data.item.source.subject", &subject,
				     err)) < 0))
		return rc;

	if (created_topic) {
		if (!source)
			return sg_error_set(err, SG_EINVALID, "field 'data.item.source': required");
		if ((rc = sg_json_str(source, "body", "data.item.source.body", 1, &html, err)) < 0 ||
		    (rc = opt_obj(source, "author", "data.item.source.author", &author, err)) < 0)
			return rc;
	} else {
		json_t *parts = NULL, *list = NULL;
		if ((rc = sg_json_obj(item, "conversation_parts", "data.item.conversation_parts",
				      1, &parts, err)) < 0 ||
		    (rc = sg_json_arr(parts, "conversation_parts",
				      "data.item.conversation_parts.conversation_parts", 1, &list,
				      err)) < 0)
			return rc;
		/* the last comment written by the contact is the reply */
		for (size_t i = json_array_size(list); i-- > 0;) {
			json_t *p = json_array_get(list, i);
			const char *pt = json_string_value(json_object_get(p, "part_type"));
			json_t *a = json_object_get(p, "author");
			const json_t *b = json_object_get(p, "body");
			if (json_is_object(p) && pt && !strcmp(pt, "comment") && is_contact(a) &&
			    json_is_string(b)) {
				html = json_string_value(b);
				author = a;
				break;
			}
		}
		if (!html)
			return sg_error_set(err, SG_EINVALID, "field 'data.item.conversation_parts."
					    "conversation_parts': no comment by the contact");
	}
	if (author && !is_contact(author))
		return why_set(why, "%s: the message is not from the contact", topic);

	char *text = sg_html_to_text(html, strlen(html));
	json_t *ev = json_object(), *cust = json_object(), *facts = json_object();
	char id[SG_WEBHOOK_ID_MAX + 16], iso[25], cid[SG_WEBHOOK_ID_MAX + 1];
	snprintf(id, sizeof(id), "intercom-%s", tid);
	int bad = !text || !ev || !cust || !facts;
	const char *name = NULL, *email = NULL;
	if (!bad && author) {
		struct sg_error ignore = SG_ERROR_INIT;
		if (get_id(author, "id", "author.id", cid, &ignore) == 0)
			bad = set_str(cust, "id", cid);
		name = json_string_value(json_object_get(author, "name"));
		email = json_string_value(json_object_get(author, "email"));
	}
	bad = bad || set_str(cust, "name", name) || set_str(cust, "email", email);
	bad = bad || set_str(ev, "id", id) || set_str(ev, "event_id", eid) ||
	      set_str(ev, "channel", src_type && !strcmp(src_type, "email") ? "email" : "chat") ||
	      set_str(ev, "subject", subject && *subject ? subject : NULL) ||
	      set_str(ev, "body", text);
	if (!bad && created > 0 && created < 1e11) {
		sg_time_iso((int64_t)created * 1000, iso);
		bad = set_str(ev, "created_at", iso);
	}
	bad = bad || set_str(facts, "helpdesk", "intercom") ||
	      set_str(facts, "helpdesk_status", state);
	sg_free(text);
	if (bad || json_object_set(ev, "customer", cust) || json_object_set(ev, "facts", facts)) {
		json_decref(ev);
		json_decref(cust);
		json_decref(facts);
		return sg_error_set(err, SG_ENOMEM, "out of memory mapping the notification");
	}
	json_decref(cust);
	json_decref(facts);
	*out = ev;
	return 0;
}

/* ---- HTML to text ------------------------------------------------------- */

static size_t put_utf8(char *o, unsigned long c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Decodes the entity at s[0] == '&' into o; returns the bytes consumed
 * (0: not an entity we decode, copy the '&' as is) and *w the bytes
 * written. */
static size_t entity(const char *s, size_t n, char *o, size_t *w)
{
	static const struct { const char *name; char c; } named[] = {
		{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
		{"apos;", '\''}, {"#39;", '\''}, {"nbsp;", ' '},
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t k = strlen(named[i].name);
		if (n > k && !memcmp(s + 1, named[i].name, k)) {
			o[0] = named[i].c;
			*w = 1;
			return k + 1;
		}
	}
	if (n < 4 || s[1] != '#')
		return 0;
	size_t i = 2;
	int hex = 0;
	if (s[i] == 'x' || s[i] == 'X') {
		hex = 1;
		i++;
	}
	unsigned long c = 0;
	size_t digits = 0;
	for (; i < n && digits < 8; i++, digits++) {
		char ch = s[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0'
			: hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
		if (d < 0)
			break;
		c = c * (hex ? 16 : 10) + (unsigned long)d;
	}
	if (!digits || i >= n || s[i] != ';' || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
	    (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
		return 0;
	*w = put_utf8(o, c);
	return i + 1;
}

/* A tag that ends a line: br, p, div, li, tr, h1-h6 (open or close). */
static int breaks_line(const char *t, size_t n)
{
	static const char *const names[] = {"br", "p", "div", "li", "tr", "h1", "h2", "h3",
					    "h4", "h5", "h6", "blockquote"};
	size_t i = 0;
	if (i < n && t[i] == '/')
		i++;
	size_t s = i;
	while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
			 (t[i] >= '0' && t[i] <= '9')))
		i++;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == i - s && !strncasecmp(t + s, names[k], i - s))
			return 1;
	return 0;
}

char *sg_html_to_text(const char *html, size_t len)
{
	char *o = sg_malloc(len + 1);
	if (!o)
		return NULL;
	size_t w = 0;
	for (size_t i = 0; i < len;) {
		char c = html[i];
		if (c == '<') {
			const char *end = memchr(html + i, '>', len - i);
			if (!end) { /* a lone '<' is text */
				o[w++] = c;
				i++;
				continue;
			}
			size_t tl = (size_t)(end - html) - i - 1;
			if (breaks_line(html + i + 1, tl) && w && o[w - 1] != '\n')
				o[w++] = '\n';
			i = (size_t)(end - html) + 1;
		} else if (c == '&') {
			size_t ww = 0, used = entity(html + i, len - i, o + w, &ww);
			if (!used) {
				o[w++] = c;
				i++;
			} else {
				w += ww;
				i += used;
			}
		} else {
			o[w++] = c;
			i++;
		}
	}
	size_t b = 0;
	while (b < w && (o[b] == ' ' || o[b] == '\n' || o[b] == '\t' || o[b] == '\r'))
		b++;
	while (w > b && (o[w - 1] == ' ' || o[w - 1] == '\n' || o[w - 1] == '\t' ||
			 o[w - 1] == '\r'))
		w--;
	memmove(o, o + b, w - b);
	o[w - b] = 0;
	return o;
}
