/*
 * index.c - the SQLite FTS5 index of the knowledge base: schema, the
 * incremental indexer (content hash per article file), bm25 search with a
 * query builder that never lets user text become FTS5 syntax.
 */
#include "kb/kb.h"

#include <ctype.h>
#include <dirent.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

struct sg_kb {
	sqlite3 *db;
	char *path;
};

/* The index is derived data: a file with another schema version is
 * rebuilt from scratch (the next `kb index` fills it again). */
#define SCHEMA_VERSION 2
static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"DROP TABLE IF EXISTS kb_meta;"
	"DROP TABLE IF EXISTS kb_passages;"
	"DROP TABLE IF EXISTS kb_articles;"
	"CREATE TABLE kb_articles("
	" id TEXT PRIMARY KEY, path TEXT UNIQUE NOT NULL, hash TEXT NOT NULL,"
	" title TEXT NOT NULL, url TEXT NOT NULL, tags TEXT NOT NULL,"
	" language TEXT NOT NULL, approved INTEGER NOT NULL);"
	"CREATE VIRTUAL TABLE kb_passages USING fts5("
	" article_id UNINDEXED, seq UNINDEXED, approved UNINDEXED, title, heading, body, tags,"
	" tokenize='porter unicode61 remove_diacritics 2');"
	"PRAGMA user_version=2;";

static int db_error(struct sg_kb *kb, struct sg_error *err, const char *what)
{
	return sg_error_set(err, SG_ESTORE, "knowledge base '%s': %s: %s", kb->path,
			    what, sqlite3_errmsg(kb->db));
}

int sg_kb_open(struct sg_kb **out, const char *path, struct sg_error *err)
{
	*out = NULL;
	struct sg_kb *kb = sg_calloc(1, sizeof(*kb));
	if (!kb || !(kb->path = sg_strdup(path))) {
		sg_free(kb);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	int rc = 0;
	if (sqlite3_open_v2(path, &kb->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = sg_error_set(err, SG_ESTORE, "unable to open knowledge base '%s': %s", path,
				  kb->db ? sqlite3_errmsg(kb->db) : "out of memory");
		goto cleanup;
	}
	sqlite3_busy_timeout(kb->db, 5000);
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(kb->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version < 0) {
		rc = db_error(kb, err, "not a SQLite database");
		goto cleanup;
	}
	if (version != SCHEMA_VERSION && sqlite3_exec(kb->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "unable to create the schema (is it a sopgate KB?)");
		goto cleanup;
	}
	*out = kb;
cleanup:
	if (rc)
		sg_kb_close(kb);
	return rc;
}

void sg_kb_close(struct sg_kb *kb)
{
	if (!kb)
		return;
	sqlite3_close(kb->db);
	sg_free(kb->path);
	sg_free(kb);
}

/* ---- file walk ---- */

struct files {
	char **v;
	size_t n, cap;
};

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct files *f, const char *root, const char *rel, int depth,
		struct sg_error *err)
{
	struct sg_buf path = SG_BUF_INIT;
	sg_buf_addf(&path, "%s%s%s", root, *rel ? "/" : "", rel);
	int rc = 0;
	if (depth > 16) {
		rc = sg_error_set(err, SG_ELIMIT, "'%s': folders nested too deep", path.data);
		goto cleanup;
	}
	DIR *d = opendir(path.data);
	if (!d) {
		rc = sg_error_set(err, SG_EIO, "unable to open folder '%s'", path.data);
		goto cleanup;
	}
	struct dirent *e;
	while ((e = readdir(d)) && !rc) {
		if (e->d_name[0] == '.')
			continue;
		struct sg_buf sub = SG_BUF_INIT, full = SG_BUF_INIT;
		sg_buf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
		sg_buf_addf(&full, "%s/%s", path.data, e->d_name);
		struct stat st;
		if (sub.oom || full.oom)
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		else if (stat(full.data, &st) == 0 && S_ISDIR(st.st_mode))
			rc = walk(f, root, sub.data, depth + 1, err);
		else if (sub.len > 3 && !strcmp(sub.data + sub.len - 3, ".md")) {
			if (f->n >= SG_MAX_KB_ARTICLES)
				rc = sg_error_set(err, SG_ELIMIT, "'%s': more than %u articles",
						  root, SG_MAX_KB_ARTICLES);
			else if (f->n == f->cap) {
				size_t cap = f->cap ? 2 * f->cap : 64;
				char **v = sg_realloc(f->v, cap * sizeof(*v));
				if (!v)
					rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				else
					f->v = v, f->cap = cap;
			}
			if (!rc)
				f->v[f->n++] = sg_buf_detach(&sub, NULL);
		}
		sg_buf_release(&sub);
		sg_buf_release(&full);
	}
	closedir(d);
cleanup:
	sg_buf_release(&path);
	return rc;
}

/* ---- indexing ---- */

static int exec1(struct sg_kb *kb, const char *sql, const char *a, struct sg_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(kb->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(kb, err, "prepare");
	if (a)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(kb, err, "write");
	sqlite3_finalize(st);
	return rc;
}

static int index_file(struct sg_kb *kb, const char *dir, const char *rel,
		      struct sg_kb_stats *stats, struct sg_error *err)
{
	struct sg_buf full = SG_BUF_INIT;
	char *text = NULL, *old_id = NULL;
	size_t len = 0;
	struct sg_kb_article a;
	memset(&a, 0, sizeof(a));
	sqlite3_stmt *st = NULL;
	char hash[SG_SHA256_HEX];
	int rc = 0, existed = 0;

	sg_buf_addf(&full, "%s/%s", dir, rel);
	rc = sg_read_file(full.data, &text, &len, err);
	if (rc)
		goto cleanup;
	sg_sha256_hex(text, len, hash);
	if (sqlite3_prepare_v2(kb->db, "SELECT hash, id FROM kb_articles WHERE path=?1", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, rel, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		existed = 1;
		if (!strcmp((const char *)sqlite3_column_text(st, 0), hash)) {
			stats->unchanged++;
			goto cleanup;
		}
		old_id = sg_strdup((const char *)sqlite3_column_text(st, 1));
		if (!old_id) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	rc = sg_kb_article_parse(&a, full.data, text, len, err);
	if (rc)
		goto cleanup;
	if (old_id) {
		if ((rc = exec1(kb, "DELETE FROM kb_passages WHERE article_id=?1", old_id, err)) ||
		    (rc = exec1(kb, "DELETE FROM kb_articles WHERE id=?1", old_id, err)))
			goto cleanup;
	}
	if (sqlite3_prepare_v2(kb->db, "SELECT path FROM kb_articles WHERE id=?1", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, a.id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rc = sg_error_set(err, SG_ECONFLICT, "%s: article id '%s' is already used by '%s'",
				  full.data, a.id, (const char *)sqlite3_column_text(st, 0));
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(kb->db, "INSERT INTO kb_articles VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, a.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a.title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a.url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a.tags, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a.language, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, a.approved);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_error(kb, err, "insert article");
		goto cleanup;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(kb->db, "INSERT INTO kb_passages(article_id, seq, approved, title, heading, body, tags) VALUES(?1,?2,?7,?3,?4,?5,?6)", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto cleanup;
	}
	for (size_t i = 0; i < a.npassages; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, a.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, a.title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, a.headings[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, a.passages[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, a.tags, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, a.approved);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = db_error(kb, err, "insert passage");
			goto cleanup;
		}
	}
	stats->passages += (unsigned)a.npassages;
	if (existed)
		stats->updated++;
	else
		stats->added++;
cleanup:
	sqlite3_finalize(st);
	sg_kb_article_release(&a);
	sg_free(old_id);
	sg_free(text);
	sg_buf_release(&full);
	return rc;
}

int sg_kb_index(struct sg_kb *kb, const char *dir, struct sg_kb_stats *stats,
		struct sg_error *err)
{
	struct files f = {0};
	struct sg_kb_stats local;
	sqlite3_stmt *st = NULL;
	char **gone = NULL;
	size_t ngone = 0;
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	int rc = walk(&f, dir, "", 0, err);
	if (rc)
		goto cleanup;
	qsort(f.v, f.n, sizeof(*f.v), cmpstr);
	if (sqlite3_exec(kb->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "begin");
		goto cleanup;
	}
	/* removed files first, so an article that moved to a new file keeps its id */
	if (sqlite3_prepare_v2(kb->db, "SELECT path, id FROM kb_articles", -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto rollback;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		if (bsearch(&p, f.v, f.n, sizeof(*f.v), cmpstr))
			continue;
		char **g = sg_realloc(gone, (ngone + 1) * sizeof(*g));
		if (!g || !(g[ngone] = sg_strdup((const char *)sqlite3_column_text(st, 1)))) {
			if (g)
				gone = g;
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto rollback;
		}
		gone = g;
		ngone++;
	}
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < ngone; i++) {
		if ((rc = exec1(kb, "DELETE FROM kb_passages WHERE article_id=?1", gone[i], err)) ||
		    (rc = exec1(kb, "DELETE FROM kb_articles WHERE id=?1", gone[i], err)))
			goto rollback;
		stats->removed++;
	}
	for (size_t i = 0; i < f.n; i++)
		if ((rc = index_file(kb, dir, f.v[i], stats, err)))
			goto rollback;
	if (sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "commit");
		goto rollback;
	}
	goto cleanup;
rollback:
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
cleanup:
	sqlite3_finalize(st);
	for (size_t i = 0; i < f.n; i++)
		sg_free(f.v[i]);
	sg_free(f.v);
	sg_kb_tokens_free(gone, ngone);
	return rc;
}

/* ---- query building ---- */

static const char *const stopwords[] = {
	"a", "about", "after", "again", "all", "also", "am", "an", "and", "any",
	"are", "as", "at", "be", "been", "before", "but", "by", "can", "could",
	"dear", "did", "do", "does", "for", "from", "get", "got", "had", "has",
	"have", "hello", "help", "hey", "hi", "how", "i", "if", "im", "in",
	"into", "is", "it", "its", "just", "know", "let", "like", "me", "much",
	"my", "need", "no", "not", "of", "on", "or", "our", "please", "so",
	"some", "still", "team", "than", "thank", "thanks", "that", "the",
	"their", "them", "then", "there", "this", "to", "up", "us", "want",
	"was", "we", "were", "what", "when", "where", "which", "who", "why",
	"will", "with", "would", "yet", "you", "your",
};

int sg_kb_stopword(const char *w, size_t len)
{
	size_t lo = 0, hi = sizeof(stopwords) / sizeof(*stopwords);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *s = stopwords[mid];
		size_t sl = strlen(s);
		int c = memcmp(w, s, len < sl ? len : sl);
		if (!c)
			c = len < sl ? -1 : len > sl ? 1 : 0;
		if (!c)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

void sg_kb_tokens_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sg_free(v[i]);
	sg_free(v);
}

/* A word is a run of ASCII letters/digits or bytes >= 0x80 (non-ASCII
 * letters); placeholders like [EMAIL_1] are skipped whole. */
int sg_kb_tokens(char ***out, size_t *n, const char *text, struct sg_error *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	*out = NULL;
	*n = 0;
	const unsigned char *p = (const unsigned char *)text;
	while (*p) {
		if (*p == '[') {
			const unsigned char *q = p + 1;
			while ((isupper(*q) || isdigit(*q) || *q == '_'))
				q++;
			if (*q == ']' && q > p + 1) {
				p = q + 1;
				continue;
			}
		}
		if (!isalnum(*p) && *p < 0x80) {
			p++;
			continue;
		}
		const unsigned char *s = p;
		while (*p && (isalnum(*p) || *p >= 0x80 || (*p == '\'' && isalpha(p[1]))))
			p++;
		size_t len = p - s;
		if (len > 64)
			continue;
		char w[65];
		size_t wl = 0;
		for (size_t i = 0; i < len; i++)
			if (s[i] != '\'')
				w[wl++] = (char)tolower(s[i]);
		w[wl] = 0;
		if (wl < 2 || sg_kb_stopword(w, wl))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			char **nv = sg_realloc(v, cap * sizeof(*nv));
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[cnt] = sg_strdup(w)))
			goto oom;
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
oom:
	sg_kb_tokens_free(v, cnt);
	return sg_error_set(err, SG_ENOMEM, "out of memory");
}

int sg_kb_query_build(char **out, const char *text, struct sg_error *err)
{
	char **tok;
	size_t n, used = 0;
	*out = NULL;
	int rc = sg_kb_tokens(&tok, &n, text, err);
	if (rc)
		return rc;
	struct sg_buf q = SG_BUF_INIT;
	for (size_t i = 0; i < n && used < SG_MAX_KB_QUERY_TOKENS; i++) {
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(tok[i], tok[j]);
		if (dup)
			continue;
		/* tokens hold no '"', so quoting makes each a plain string */
		sg_buf_addf(&q, "%s\"%s\"", used ? " OR " : "", tok[i]);
		used++;
	}
	sg_kb_tokens_free(tok, n);
	if (q.oom) {
		sg_buf_release(&q);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	*out = q.len ? sg_buf_detach(&q, NULL) : sg_strdup("");
	sg_buf_release(&q);
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

/* ---- search ---- */

void sg_kb_hits_release(struct sg_kb_hits *h)
{
	for (size_t i = 0; i < h->n; i++) {
		sg_free(h->v[i].article_id);
		sg_free(h->v[i].title);
		sg_free(h->v[i].url);
		sg_free(h->v[i].heading);
		sg_free(h->v[i].text);
	}
	sg_free(h->v);
	h->v = NULL;
	h->n = 0;
}

int sg_kb_search(struct sg_kb *kb, const char *text, size_t k, unsigned flags,
		 struct sg_kb_hits *out, struct sg_error *err)
{
	char *q = NULL;
	sqlite3_stmt *st = NULL;
	out->v = NULL;
	out->n = 0;
	if (k > SG_MAX_KB_HITS)
		k = SG_MAX_KB_HITS;
	int rc = sg_kb_query_build(&q, text, err);
	if (rc || !*q || !k)
		goto cleanup;
	/* bm25 weights: article_id, seq, approved (unindexed), title, heading,
	 * body, tags; the FTS table is ranked and cut first, then joined */
	const char *sql =
		"SELECT p.article_id, a.title, a.url, p.heading, p.body, p.r FROM"
		" (SELECT article_id, seq, heading, body,"
		"  bm25(kb_passages, 0, 0, 0, 4.0, 2.0, 1.0, 2.0) AS r FROM kb_passages"
		"  WHERE kb_passages MATCH ?1 AND (approved = 1 OR ?2)"
		"  ORDER BY r, article_id, seq LIMIT ?3) p"
		" JOIN kb_articles a ON a.id = p.article_id"
		" ORDER BY p.r, p.article_id, p.seq";
	if (sqlite3_prepare_v2(kb->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare search");
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (flags & SG_KB_INCLUDE_UNAPPROVED) ? 1 : 0);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)k);
	out->v = sg_calloc(k, sizeof(*out->v));
	if (!out->v) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_kb_hit *h = &out->v[out->n++];
		h->article_id = sg_strdup((const char *)sqlite3_column_text(st, 0));
		h->title = sg_strdup((const char *)sqlite3_column_text(st, 1));
		h->url = sg_strdup((const char *)sqlite3_column_text(st, 2));
		h->heading = sg_strdup((const char *)sqlite3_column_text(st, 3));
		h->text = sg_strdup((const char *)sqlite3_column_text(st, 4));
		h->score = -sqlite3_column_double(st, 5);
		if (!h->article_id || !h->title || !h->url || !h->heading || !h->text) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (s != SQLITE_DONE)
		rc = db_error(kb, err, "search");
cleanup:
	sqlite3_finalize(st);
	sg_free(q);
	if (rc)
		sg_kb_hits_release(out);
	return rc;
}

int sg_kb_article_text(struct sg_kb *kb, const char *id, char **out,
		       struct sg_error *err)
{
	sqlite3_stmt *st = NULL;
	struct sg_buf b = SG_BUF_INIT;
	int rc = 0, found = 0;
	*out = NULL;
	const char *sql = "SELECT a.title, a.url, p.heading, p.body FROM kb_articles a"
			  " JOIN kb_passages p ON p.article_id = a.id"
			  " WHERE a.id = ?1 AND a.approved = 1 ORDER BY p.seq";
	if (sqlite3_prepare_v2(kb->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (!found++)
			sg_buf_addf(&b, "%s\n%s\n", (const char *)sqlite3_column_text(st, 0),
				    (const char *)sqlite3_column_text(st, 1));
		sg_buf_addf(&b, "%s\n%s\n", (const char *)sqlite3_column_text(st, 2),
			    (const char *)sqlite3_column_text(st, 3));
	}
	if (!found) {
		rc = sg_error_set(err, SG_ENOTFOUND, "no approved knowledge-base article '%s'", id);
		goto cleanup;
	}
	if (b.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	*out = sg_buf_detach(&b, NULL);
cleanup:
	sqlite3_finalize(st);
	sg_buf_release(&b);
	return rc;
}

int sg_kb_approved_urls(char ***out, size_t *n, struct sg_kb *kb,
			struct sg_error *err)
{
	sqlite3_stmt *st = NULL;
	char **v = NULL;
	size_t cnt = 0;
	int rc = 0;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(kb->db, "SELECT url FROM kb_articles WHERE approved = 1 ORDER BY url",
			       -1, &st, NULL) != SQLITE_OK) {
		rc = db_error(kb, err, "prepare");
		goto cleanup;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char **nv = sg_realloc(v, (cnt + 1) * sizeof(*nv));
		if (!nv || !(nv[cnt] = sg_strdup((const char *)sqlite3_column_text(st, 0)))) {
			if (nv)
				v = nv;
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		v = nv;
		cnt++;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
cleanup:
	sqlite3_finalize(st);
	sg_kb_tokens_free(v, cnt);
	return rc;
}
