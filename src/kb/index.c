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

/* Terms in more than 1/PRUNE_SHARE of the passages are left out of the
 * search of a KB with at least PRUNE_MIN_PASSAGES passages: their bm25
 * weight (idf under log 2) barely moves the ranking, yet each of them makes
 * FTS5 score thousands of rows. Smaller KBs are searched with every term. */
#define PRUNE_MIN_PASSAGES 2000
#define PRUNE_SHARE 3
#define PRUNE_MAX_TERMS 8 /* and only the rarest words of a long ticket */
#define DF_SLOTS 1024 /* document frequencies cached per connection */

struct df_slot {
	char term[65]; /* "" when free */
	long long df;
};

struct sg_kb {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *search;  /* prepared once per connection */
	sqlite3_stmt *count;   /* passages holding one term */
	long long passages;    /* -1: unknown (the index changed) */
	long long data_version;
	struct df_slot *df;    /* DF_SLOTS, open addressing; NULL until needed */
	size_t ndf;
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
	kb->passages = -1;
	/* searches read the index pages of every matching term: map the file
	 * rather than copying pages through read(), and keep a larger cache */
	sqlite3_exec(kb->db, "PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384;", NULL, NULL, NULL);
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
	sqlite3_finalize(kb->search);
	sqlite3_finalize(kb->count);
	sg_free(kb->df);
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
	kb->passages = -1; /* term statistics are stale */
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

/* One ranked window: the `limit` best passages by bm25, ranked inside
 * FTS5 (ORDER BY rank: only the ranks are sorted and only the window's
 * rows are read from the content table), joined to their articles.
 * Unapproved passages are skipped unless asked for; *seen counts the
 * window's rows. */
static int search_window(struct sg_kb *kb, const char *q, size_t k, size_t limit, int all,
			 struct sg_kb_hits *out, size_t *seen, struct sg_error *err)
{
	/* bm25 weights: article_id, seq, approved (unindexed), title, heading,
	 * body, tags */
	static const char sql[] =
		"SELECT p.article_id, a.title, a.url, p.heading, p.body, p.rank, p.approved FROM"
		" (SELECT article_id, seq, heading, body, approved, rank FROM kb_passages"
		"  WHERE kb_passages MATCH ?1 AND rank MATCH 'bm25(0, 0, 0, 4.0, 2.0, 1.0, 2.0)'"
		"  ORDER BY rank LIMIT ?2) p"
		" JOIN kb_articles a ON a.id = p.article_id"
		" ORDER BY p.rank, p.article_id, p.seq";
	int rc = 0, s;
	*seen = 0;
	if (!kb->search && sqlite3_prepare_v3(kb->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &kb->search,
					      NULL) != SQLITE_OK)
		return db_error(kb, err, "prepare search");
	sqlite3_stmt *st = kb->search;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		(*seen)++;
		if ((!all && sqlite3_column_int(st, 6) != 1) || out->n >= k)
			continue;
		struct sg_kb_hit *h = &out->v[out->n++];
		h->article_id = sg_strdup((const char *)sqlite3_column_text(st, 0));
		h->title = sg_strdup((const char *)sqlite3_column_text(st, 1));
		h->url = sg_strdup((const char *)sqlite3_column_text(st, 2));
		h->heading = sg_strdup((const char *)sqlite3_column_text(st, 3));
		h->text = sg_strdup((const char *)sqlite3_column_text(st, 4));
		h->score = -sqlite3_column_double(st, 5);
		if (!h->article_id || !h->title || !h->url || !h->heading || !h->text) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			break;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = db_error(kb, err, "search");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/* The passage count, refreshed (and the term cache cleared) when this or
 * another connection changed the index. */
static int refresh_stats(struct sg_kb *kb, struct sg_error *err)
{
	sqlite3_stmt *st = NULL;
	long long version = -1;
	if (sqlite3_prepare_v2(kb->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (kb->passages >= 0 && version == kb->data_version)
		return 0;
	kb->data_version = version;
	kb->passages = 0;
	if (kb->df)
		memset(kb->df, 0, DF_SLOTS * sizeof(*kb->df));
	kb->ndf = 0;
	if (sqlite3_prepare_v2(kb->db, "SELECT count(*) FROM kb_passages_docsize", -1, &st, NULL) != SQLITE_OK)
		return db_error(kb, err, "count passages");
	if (sqlite3_step(st) == SQLITE_ROW)
		kb->passages = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Passages holding term (cached until the index changes); -1 on error. */
static long long term_df(struct sg_kb *kb, const char *term)
{
	size_t h = sg_fnv1a64(term, strlen(term), 0) % DF_SLOTS;
	if (!kb->df && !(kb->df = sg_calloc(DF_SLOTS, sizeof(*kb->df))))
		return -1;
	struct df_slot *slot = NULL;
	for (size_t i = 0; i < DF_SLOTS; i++) {
		struct df_slot *d = &kb->df[(h + i) % DF_SLOTS];
		if (!d->term[0]) {
			slot = d;
			break;
		}
		if (!strcmp(d->term, term))
			return d->df;
	}
	if (!kb->count && sqlite3_prepare_v3(kb->db, "SELECT count(*) FROM kb_passages WHERE kb_passages MATCH ?1",
					     -1, SQLITE_PREPARE_PERSISTENT, &kb->count, NULL) != SQLITE_OK)
		return -1;
	char q[70];
	snprintf(q, sizeof(q), "\"%s\"", term);
	sqlite3_bind_text(kb->count, 1, q, -1, SQLITE_TRANSIENT);
	long long df = sqlite3_step(kb->count) == SQLITE_ROW ? sqlite3_column_int64(kb->count, 0) : -1;
	sqlite3_reset(kb->count);
	if (df >= 0 && slot && kb->ndf < DF_SLOTS / 2) { /* keep the table sparse */
		snprintf(slot->term, sizeof(slot->term), "%s", term);
		slot->df = df;
		kb->ndf++;
	}
	return df;
}

/* The MATCH expression for text on this KB: the distinct words, each a
 * quoted string, joined by OR; on a large KB the words in more than a
 * third of the passages and the words in none are left out (unless that
 * would leave nothing). *out is "" when nothing is searchable. */
static int kb_query(struct sg_kb *kb, char **out, const char *text, struct sg_error *err)
{
	char **tok = NULL;
	size_t n = 0, used = 0;
	long long df[SG_MAX_KB_QUERY_TOKENS];
	const char *terms[SG_MAX_KB_QUERY_TOKENS];
	struct sg_buf q = SG_BUF_INIT;
	*out = NULL;
	int rc = sg_kb_tokens(&tok, &n, text, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && used < SG_MAX_KB_QUERY_TOKENS; i++) {
		int dup = 0;
		for (size_t j = 0; j < used && !dup; j++)
			dup = !strcmp(tok[i], terms[j]);
		if (!dup)
			terms[used++] = tok[i];
	}
	int prune = 0;
	if (used > 1 && (rc = refresh_stats(kb, err)) == 0 && kb->passages >= PRUNE_MIN_PASSAGES) {
		size_t kept = 0;
		prune = 1;
		for (size_t i = 0; i < used && prune; i++) {
			df[i] = term_df(kb, terms[i]);
			if (df[i] < 0)
				prune = 0; /* no statistics: search with every word */
			else if (df[i] > 0 && df[i] * PRUNE_SHARE <= kb->passages)
				kept++;
		}
		prune = prune && kept > 0;
	}
	if (rc)
		goto cleanup;
	/* the rarest words carry the ranking: keep PRUNE_MAX_TERMS of them */
	if (prune) {
		size_t rarer_than;
		for (size_t i = 0; i < used; i++) {
			if (df[i] == 0 || df[i] * PRUNE_SHARE > kb->passages)
				continue;
			rarer_than = 0;
			for (size_t j = 0; j < used; j++)
				rarer_than += df[j] > 0 && df[j] * PRUNE_SHARE <= kb->passages &&
					      (df[j] < df[i] || (df[j] == df[i] && j < i));
			if (rarer_than >= PRUNE_MAX_TERMS)
				df[i] = -df[i]; /* marked: left out */
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < used; i++) {
		if (prune && (df[i] <= 0 || df[i] * PRUNE_SHARE > kb->passages))
			continue;
		/* tokens hold no '"', so quoting makes each a plain string */
		sg_buf_addf(&q, "%s\"%s\"", w++ ? " OR " : "", terms[i]);
	}
	if (q.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	*out = q.len ? sg_buf_detach(&q, NULL) : sg_strdup("");
	if (!*out)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
cleanup:
	sg_buf_release(&q);
	sg_kb_tokens_free(tok, n);
	return rc;
}

int sg_kb_search(struct sg_kb *kb, const char *text, size_t k, unsigned flags,
		 struct sg_kb_hits *out, struct sg_error *err)
{
	char *q = NULL;
	out->v = NULL;
	out->n = 0;
	if (k > SG_MAX_KB_HITS)
		k = SG_MAX_KB_HITS;
	int rc = kb_query(kb, &q, text, err);
	if (rc || !*q || !k)
		goto cleanup;
	out->v = sg_calloc(k, sizeof(*out->v));
	if (!out->v) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* a window a little wider than k leaves room for unapproved drafts;
	 * when they fill it, widen it and search again */
	int all = (flags & SG_KB_INCLUDE_UNAPPROVED) != 0;
	for (size_t limit = k + 8;; limit *= 8) {
		size_t seen;
		if ((rc = search_window(kb, q, k, limit, all, out, &seen, err)))
			goto cleanup;
		if (out->n >= k || seen < limit)
			break;
		sg_kb_hits_release(out);
		out->v = sg_calloc(k, sizeof(*out->v));
		if (!out->v) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
cleanup:
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
