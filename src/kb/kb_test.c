/*
 * kb_test.c - article parsing, incremental indexing, FTS5-safe queries and
 * retrieval on the example help center (sample tickets per category must
 * find the right article at rank 1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "kb/kb.h"

#define KB_DIR "examples/acme/kb"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
	static char buf[512];
	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	const char *base = getenv("SG_TEST_TMP");
	snprintf(tmpdir, sizeof(tmpdir), "%s/kbtest.XXXXXX", base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static const char good[] =
	"---\n"
	"id: test/one\n"
	"title: Test one\n"
	"url: https://help.acme.example/test/one\n"
	"tags: [alpha, beta]\n"
	"approved: true\n"
	"---\n"
	"# Heading A\n\nFirst paragraph about widgets.\n\n# Heading B\n\n- item one\n- item two\n";

static void test_parse_article(void **state)
{
	(void)state;
	struct sg_kb_article a;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_kb_article_parse(&a, "t.md", good, strlen(good), &err), 0);
	assert_string_equal(a.id, "test/one");
	assert_string_equal(a.tags, "alpha, beta");
	assert_string_equal(a.language, "en");
	assert_int_equal(a.approved, 1);
	assert_int_equal(a.npassages, 2);
	assert_string_equal(a.headings[0], "Heading A");
	assert_string_equal(a.passages[0], "First paragraph about widgets.");
	assert_string_equal(a.passages[1], "item one\nitem two");
	sg_kb_article_release(&a);
}

static void expect_parse_error(const char *text, const char *needle)
{
	struct sg_kb_article a;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_not_equal(sg_kb_article_parse(&a, "bad.md", text, strlen(text), &err), 0);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' does not mention '%s'", err.msg, needle);
	assert_null(a.id);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("# no front matter\n", "front matter");
	expect_parse_error("---\nid: x\ntitle: t\nurl: https://a.example/x\n", "not closed");
	expect_parse_error("---\nid: x\ntitle: t\nurl: https://a.example/x\ncolour: red\n---\n", "unknown key 'colour'");
	expect_parse_error("---\ntitle: t\nurl: https://a.example/x\n---\n", "missing required key 'id'");
	expect_parse_error("---\nid: X Y\ntitle: t\nurl: https://a.example/x\n---\n", "'id'");
	expect_parse_error("---\nid: x\ntitle: t\nurl: ftp://a.example/x\n---\n", "not an http(s) URL");
	expect_parse_error("---\nid: x\ntitle: t\nurl: https://a.example/x\napproved: maybe\n---\n", "approved");
	expect_parse_error("---\nid: x\nid: y\ntitle: t\nurl: https://a.example/x\n---\n", "twice");
	expect_parse_error("---\nid: x\nnonsense line\n---\n", "key: value");
}

static void test_long_paragraph_is_split(void **state)
{
	(void)state;
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_adds(&b, "---\nid: long\ntitle: Long\nurl: https://a.example/l\n---\n");
	for (int i = 0; i < 200; i++)
		sg_buf_addf(&b, "Sentence number %d is here. ", i);
	struct sg_kb_article a;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_kb_article_parse(&a, "l.md", b.data, b.len, &err), 0);
	assert_true(a.npassages > 3);
	for (size_t i = 0; i < a.npassages; i++)
		assert_true(strlen(a.passages[i]) <= 900);
	sg_kb_article_release(&a);
	sg_buf_release(&b);
}

static void test_query_is_never_syntax(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char *q;
	assert_int_equal(sg_kb_query_build(&q, "refund\" OR NEAR(a b) * -x (AND) ^col:y {z}", &err), 0);
	assert_string_equal(q, "\"refund\" OR \"near\" OR \"col\"");
	sg_free(q);
	assert_int_equal(sg_kb_query_build(&q, "\"\" ** -- () !!!", &err), 0);
	assert_string_equal(q, "");
	sg_free(q);
	/* placeholders and stop words are not searched */
	assert_int_equal(sg_kb_query_build(&q, "Hi, my email is [EMAIL_1] and I want a refund", &err), 0);
	assert_string_equal(q, "\"email\" OR \"refund\"");
	sg_free(q);

	struct sg_kb *kb;
	assert_int_equal(sg_kb_open(&kb, tmp_path("q.db"), &err), 0);
	assert_int_equal(sg_kb_index(kb, KB_DIR, NULL, &err), 0);
	const char *nasty[] = {
		"\"unterminated", "NEAR(password reset, 2)", "pass*", "-refund", "(order OR",
		"title:refund", "a AND OR NOT", ")))(((", "\xc3\xa9t\xc3\xa9 refund", "",
		"NOT", "^refund", "refund + invoice", "{title body}: x",
	};
	for (size_t i = 0; i < sizeof(nasty) / sizeof(*nasty); i++) {
		struct sg_kb_hits h;
		struct sg_error e = SG_ERROR_INIT;
		if (sg_kb_search(kb, nasty[i], 5, 0, &h, &e))
			fail_msg("query '%s' failed: %s", nasty[i], e.msg);
		sg_kb_hits_release(&h);
	}
	sg_kb_close(kb);
}

static void test_incremental_index(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/articles", tmpdir);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r " KB_DIR " '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
	struct sg_kb *kb;
	struct sg_kb_stats st;
	assert_int_equal(sg_kb_open(&kb, tmp_path("inc.db"), &err), 0);
	assert_int_equal(sg_kb_index(kb, dir, &st, &err), 0);
	assert_true(st.added >= 15 && st.added <= 25);
	unsigned total = st.added;
	assert_int_equal(sg_kb_index(kb, dir, &st, &err), 0);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.unchanged, total);
	assert_int_equal(st.passages, 0);

	/* change one, remove one, add one */
	char path[700];
	snprintf(path, sizeof(path), "%s/howto/newsletter.md", dir);
	write_file(path, "---\nid: howto/newsletter\ntitle: Newsletter\nurl: https://help.acme.example/howto/newsletter\n"
			 "approved: true\n---\nThe zebracorn newsletter arrives on Mondays.\n");
	snprintf(path, sizeof(path), "%s/freight/tracking.md", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/new.md", dir);
	write_file(path, good);
	assert_int_equal(sg_kb_index(kb, dir, &st, &err), 0);
	assert_int_equal(st.updated, 1);
	assert_int_equal(st.removed, 1);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.unchanged, total - 2);

	struct sg_kb_hits h;
	assert_int_equal(sg_kb_search(kb, "zebracorn", 5, 0, &h, &err), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.v[0].article_id, "howto/newsletter");
	sg_kb_hits_release(&h);
	assert_int_equal(sg_kb_search(kb, "PRO number bill of lading", 5, 0, &h, &err), 0);
	for (size_t i = 0; i < h.n; i++)
		assert_string_not_equal(h.v[i].article_id, "freight/tracking");
	sg_kb_hits_release(&h);

	/* a broken article fails the whole run and leaves the index as it was */
	write_file(path, "---\nid: new\n---\n");
	assert_int_not_equal(sg_kb_index(kb, dir, &st, &err), 0);
	assert_non_null(strstr(err.file, "new.md"));
	assert_int_equal(sg_kb_search(kb, "widgets", 5, 0, &h, &err), 0);
	assert_int_equal(h.n, 1);
	sg_kb_hits_release(&h);

	/* two files with one id */
	struct sg_error e2 = SG_ERROR_INIT;
	write_file(path, good);
	snprintf(path, sizeof(path), "%s/dup.md", dir);
	write_file(path, good);
	assert_int_not_equal(sg_kb_index(kb, dir, &st, &e2), 0);
	assert_non_null(strstr(e2.msg, "already used"));
	sg_kb_close(kb);
}

static void test_approved_only(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_kb *kb;
	assert_int_equal(sg_kb_open(&kb, tmp_path("ap.db"), &err), 0);
	assert_int_equal(sg_kb_index(kb, KB_DIR, NULL, &err), 0);
	struct sg_kb_hits h;
	assert_int_equal(sg_kb_search(kb, "holiday christmas returns January", 5, 0, &h, &err), 0);
	for (size_t i = 0; i < h.n; i++)
		assert_string_not_equal(h.v[i].article_id, "support/holiday-returns-draft");
	sg_kb_hits_release(&h);
	assert_int_equal(sg_kb_search(kb, "holiday christmas", 5, SG_KB_INCLUDE_UNAPPROVED, &h, &err), 0);
	assert_true(h.n >= 1);
	assert_string_equal(h.v[0].article_id, "support/holiday-returns-draft");
	sg_kb_hits_release(&h);
	char **urls;
	size_t n;
	assert_int_equal(sg_kb_approved_urls(&urls, &n, kb, &err), 0);
	assert_true(n >= 15);
	for (size_t i = 0; i < n; i++) {
		assert_true(!strncmp(urls[i], "https://help.acme.example/", 26));
		assert_string_not_equal(urls[i], "https://help.acme.example/support/holiday-returns");
	}
	sg_kb_tokens_free(urls, n);
	char *t;
	assert_int_equal(sg_kb_article_text(kb, "support/holiday-returns-draft", &t, &err), -SG_ENOTFOUND);
	sg_kb_close(kb);
}

/* Sample tickets per category and the article that must rank first. */
static const struct {
	const char *ticket, *article;
} samples[] = {
	/* password reset (pre-approved) */
	{"I forgot my password and can't log in", "account/password-reset"},
	{"The password reset email never arrived, I checked spam", "account/password-reset"},
	{"How do I change my password? The reset link expired", "account/password-reset"},
	{"Locked out after too many sign in attempts, need to reset password", "account/password-reset"},
	/* order status (pre-approved) */
	{"Where is my order? It still says processing", "orders/order-status"},
	{"Can you give me the tracking number for my parcel", "orders/order-status"},
	{"Tracking has not updated for a week, where is my parcel", "orders/order-status"},
	{"What does order status shipped mean", "orders/order-status"},
	/* shipping ETA (pre-approved) */
	{"How long does standard shipping take to arrive", "shipping/delivery-times"},
	{"When will my package arrive? What is the estimated delivery date", "shipping/delivery-times"},
	{"How many business days for international shipping", "shipping/delivery-times"},
	{"My parcel is late, past the estimated delivery date", "shipping/delivery-times"},
	/* basic how-to (pre-approved) */
	{"How do I change the shipping address on my order", "howto/change-shipping-address"},
	{"I entered the wrong delivery address, can I edit it", "howto/change-shipping-address"},
	{"My card expired, how do I update my payment method", "howto/update-payment-method"},
	{"How can I add PayPal as a payment method", "howto/update-payment-method"},
	{"Please unsubscribe me from the newsletter", "howto/newsletter"},
	{"Too many marketing emails, how do I stop the newsletter", "howto/newsletter"},
	/* refunds */
	{"Can I return an item and get a refund", "billing/refund-policy"},
	{"The item arrived damaged, I want my money back", "billing/refund-policy"},
	{"What is your return policy for opened items", "billing/refund-policy"},
	{"When will I get my refund? It has been a week", "billing/refund-status"},
	{"How do I track my refund status", "billing/refund-status"},
	{"How long does a refund take to reach my credit card", "billing/refund-status"},
	/* cancellation */
	{"I want to cancel my order", "orders/cancel-order"},
	{"Is there a cancellation fee to cancel an order", "orders/cancel-order"},
	{"Please cancel the order I placed by mistake", "orders/cancel-order"},
	{"How do I cancel my Acme Plus subscription", "account/cancel-subscription"},
	{"Stop my membership auto-renew", "account/cancel-subscription"},
	{"I want to cancel my subscription, is there a fee", "account/cancel-subscription"},
	/* invoices */
	{"Where can I download an invoice for my order", "billing/invoices"},
	{"I need a receipt with our VAT number", "billing/invoices"},
	{"Can you send me a tax invoice with company details", "billing/invoices"},
	/* account */
	{"How do I create an account", "account/create-account"},
	{"Please delete my account and all my data", "account/delete-account"},
	{"Close my account, GDPR request", "account/delete-account"},
	{"How do I switch between my personal and business account", "account/switch-account"},
	{"I lost access to my email and cannot recover my account", "account/recover-account"},
	{"I no longer have access to the email on my account", "account/recover-account"},
	/* delivery options */
	{"How much does express shipping cost", "shipping/delivery-options"},
	{"Can I pick up my parcel at a pickup point", "shipping/delivery-options"},
	{"Do you ship to Canada, what delivery options are there", "shipping/delivery-options"},
	/* complaints, contact */
	{"I want to make a complaint about poor service", "support/complaints-feedback"},
	{"I have some feedback and a suggestion", "support/complaints-feedback"},
	{"I want to talk to a human agent", "support/contact-us"},
	{"What are your phone support opening hours", "support/contact-us"},
	{"Can I talk to a person on the phone", "support/contact-us"},
	/* freight */
	{"Our pallet arrived damaged, how do we file a freight claim", "freight/claims"},
	{"Freight shipment lost, claim deadline?", "freight/claims"},
	{"Shortage on our freight delivery, missing pallets", "freight/claims"},
	{"Track freight shipment with PRO number", "freight/tracking"},
};

static void test_retrieval_rank1(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_kb *kb;
	assert_int_equal(sg_kb_open(&kb, tmp_path("r.db"), &err), 0);
	assert_int_equal(sg_kb_index(kb, KB_DIR, NULL, &err), 0);
	int bad = 0;
	for (size_t i = 0; i < sizeof(samples) / sizeof(*samples); i++) {
		struct sg_kb_hits h;
		assert_int_equal(sg_kb_search(kb, samples[i].ticket, 3, 0, &h, &err), 0);
		if (!h.n || strcmp(h.v[0].article_id, samples[i].article)) {
			print_message("'%s': expected %s, got %s\n", samples[i].ticket,
				      samples[i].article, h.n ? h.v[0].article_id : "(nothing)");
			bad++;
		}
		sg_kb_hits_release(&h);
	}
	assert_int_equal(bad, 0);
	sg_kb_close(kb);
}

/* Copies every article under dir into out, `copies` times, with ids and
 * URLs suffixed "-cN" (approved flags kept). */
static void grow(const char *dir, const char *out, unsigned copies, unsigned *n)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[1024];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			grow(p, out, copies, n);
			continue;
		}
		char *text;
		size_t len;
		struct sg_error err = SG_ERROR_INIT;
		assert_int_equal(sg_read_file(p, &text, &len, &err), 0);
		for (unsigned c = 0; c < copies; c++) {
			struct sg_buf b = SG_BUF_INIT;
			for (const char *l = text; *l;) {
				const char *nl = strchr(l, '\n');
				size_t ll = nl ? (size_t)(nl - l) : strlen(l);
				sg_buf_add(&b, l, ll);
				if (!strncmp(l, "id: ", 4) || !strncmp(l, "url: ", 5))
					sg_buf_addf(&b, "-c%u", c);
				sg_buf_addc(&b, '\n');
				l += ll + (nl ? 1 : 0);
			}
			char q[1200];
			snprintf(q, sizeof(q), "%s/a%u.md", out, (*n)++);
			write_file(q, b.data);
			sg_buf_release(&b);
		}
		sg_free(text);
	}
	closedir(d);
}

/* The same tickets on the example KB grown past 2,000 passages (32 copies
 * of each article, the unapproved draft too), where the search leaves the
 * words of more than a third of the passages out: the right article is
 * still first. */
static void test_retrieval_rank1_large(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_kb *kb;
	struct sg_kb_stats st;
	unsigned n = 0;
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", tmp_path("large"));
	assert_int_equal(mkdir(dir, 0700), 0);
	grow(KB_DIR, dir, 32, &n);
	assert_int_equal(sg_kb_open(&kb, tmp_path("large.db"), &err), 0);
	assert_int_equal(sg_kb_index(kb, dir, &st, &err), 0);
	assert_true(st.passages >= 2000);
	int bad = 0;
	for (size_t i = 0; i < sizeof(samples) / sizeof(*samples); i++) {
		struct sg_kb_hits h;
		assert_int_equal(sg_kb_search(kb, samples[i].ticket, 3, 0, &h, &err), 0);
		size_t al = strlen(samples[i].article);
		if (!h.n || strncmp(h.v[0].article_id, samples[i].article, al) ||
		    strncmp(h.v[0].article_id + al, "-c", 2)) {
			print_message("'%s': expected %s-cN, got %s\n", samples[i].ticket,
				      samples[i].article, h.n ? h.v[0].article_id : "(nothing)");
			bad++;
		}
		sg_kb_hits_release(&h);
	}
	assert_int_equal(bad, 0);
	sg_kb_close(kb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_article),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_long_paragraph_is_split),
		cmocka_unit_test(test_query_is_never_syntax),
		cmocka_unit_test(test_incremental_index),
		cmocka_unit_test(test_approved_only),
		cmocka_unit_test(test_retrieval_rank1),
		cmocka_unit_test(test_retrieval_rank1_large),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
