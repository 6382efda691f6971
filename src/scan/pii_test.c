/*
 * pii_test.c - one test per PII recognizer: true positives, near misses
 * that must not match, and evasions (full-width digits, zero-width
 * characters, spaced-out digits, look-alike letters).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan/scan_test_util.h"

static void test_email(void **state)
{
	(void)state;
	FOUND("EMAIL", "write to john.smith+tag@mail.example.co.uk today", "john.smith+tag@mail.example.co.uk");
	FOUND("EMAIL", "(a_b@x-y.io)", "a_b@x-y.io");
	NOT_FOUND("EMAIL", "meet me @ the office");
	NOT_FOUND("EMAIL", "user@localhost is not routable");
	NOT_FOUND("EMAIL", "a@b..com");
}

static void test_card(void **state)
{
	(void)state;
	FOUND("CREDIT_CARD", "card 4111 1111 1111 1111 please", "4111 1111 1111 1111");
	FOUND("CREDIT_CARD", "amex 378282246310005.", "378282246310005");
	FOUND("CREDIT_CARD", "mc 5555-5555-5555-4444", "5555-5555-5555-4444");
	FOUND("CREDIT_CARD", "spaced 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 end",
	      "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1");
	/* Luhn fails */
	NOT_FOUND("CREDIT_CARD", "card 4111 1111 1111 1112 please");
	/* Luhn passes but no issuer starts with 9 */
	NOT_FOUND("CREDIT_CARD", "ref 9000000000000008");
	/* ... unless the text calls it a card */
	FOUND("CREDIT_CARD", "my card number 3593156708213738 is lost", "3593156708213738");
	/* a run of one digit */
	NOT_FOUND("CREDIT_CARD", "0000 0000 0000 0000");
}

static void test_card_evasions(void **state)
{
	(void)state;
	/* full-width digits */
	const char *fw = "card \xef\xbc\x94\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91"
			 "111111111111 ok";
	struct sg_scan_result *r = t_scan(fw);
	assert_non_null(r);
	assert_true(t_has(r, fw, "CREDIT_CARD", NULL));
	assert_int_equal(r->findings[0].start, 5); /* original offsets */
	assert_int_equal(r->findings[0].end, 5 + 12 + 12);
	/* zero-width joiners and spaces inside the number */
	const char *zw = "4111\xe2\x80\x8d" "1111\xe2\x80\x8b" "1111 1111";
	r = t_scan(zw);
	assert_true(t_has(r, zw, "CREDIT_CARD", zw));
	assert_string_equal(r->masked, "[CREDIT_CARD_1]");
}

static void test_ssn(void **state)
{
	(void)state;
	FOUND("SSN", "ssn 123-45-6780 on file", "123-45-6780");
	FOUND("SSN", "my social security number is 078051121", "078051121");
	NOT_FOUND("SSN", "ssn 000-12-3456");   /* area 000 */
	NOT_FOUND("SSN", "ssn 666-12-3456");   /* area 666 */
	NOT_FOUND("SSN", "ssn 912-12-3456");   /* area 9xx */
	NOT_FOUND("SSN", "ssn 123-00-4567");   /* group 00 */
	NOT_FOUND("SSN", "ssn 123-45-0000");   /* serial 0000 */
	NOT_FOUND("SSN", "order 123-45 6789"); /* mixed separators */
	NOT_FOUND("SSN", "tracking 123456780 shipped"); /* bare, no context */
}

static void test_iban(void **state)
{
	(void)state;
	FOUND("IBAN", "pay to GB82 WEST 1234 5698 7654 32 thanks", "GB82 WEST 1234 5698 7654 32");
	FOUND("IBAN", "DE89370400440532013000", "DE89370400440532013000");
	NOT_FOUND("IBAN", "GB82 WEST 1234 5698 7654 33"); /* mod-97 */
	NOT_FOUND("IBAN", "DE8937040044053201300");       /* length */
}

static void test_ip(void **state)
{
	(void)state;
	FOUND("IP_ADDRESS", "from 192.168.10.254 at noon", "192.168.10.254");
	FOUND("IP_ADDRESS", "v6 2001:db8::8a2e:370:7334 here", "2001:db8::8a2e:370:7334");
	NOT_FOUND("IP_ADDRESS", "from 192.168.10.256");
	NOT_FOUND("IP_ADDRESS", "version 1.2.3.4.5");
	NOT_FOUND("IP_ADDRESS", "at 12:30:45 today");
}

static void test_phone(void **state)
{
	(void)state;
	FOUND("PHONE", "call me at +1 (415) 555-0132 tomorrow", "+1 (415) 555-0132");
	FOUND("PHONE", "phone: 020 7946 0958", "020 7946 0958");
	FOUND("PHONE", "mobile 0612345678", "0612345678");
	NOT_FOUND("PHONE", "from 1990-2005 we grew");
	NOT_FOUND("PHONE", "Date: 1992-11-12 07:04:41");
	NOT_FOUND("PHONE", "we sold 300 400 units");
	/* extensions belong to the number */
	FOUND("PHONE", "Fax: 259.735.7502x459 thanks", "259.735.7502x459");
	FOUND("PHONE", "Desk: (898)666-3621x0135 Fax:", "(898)666-3621x0135");
	FOUND("PHONE", "call +1-903-140-4508 ext. 769 today", "+1-903-140-4508 ext. 769");
	FOUND("PHONE", "office 020 7946 0958, extension 12.", "020 7946 0958, extension 12");
	/* national formats: area code and one block */
	FOUND("PHONE", "phone: 0393 1144137 e-mail", "0393 1144137");
	FOUND("PHONE", "Mobile: 99 577450 desk", "99 577450");
	FOUND("PHONE", "ring 0341-8387176 after six", "0341-8387176");
	/* near misses: an order number and a count are not phones */
	NOT_FOUND("PHONE", "order 2024 123456 shipped");
	NOT_FOUND("PHONE", "version 12 100200 released");
	NOT_FOUND("PHONE", "box 12x34 cm");
	/* evasions: full-width digits, zero-width characters between digits */
	FOUND("PHONE", "mobile \xef\xbc\x90\xef\xbc\x93\xef\xbc\x94\xef\xbc\x91 8387176", NULL);
	FOUND("PHONE", "call 415\xe2\x80\x8b" "555\xe2\x80\x8b" "0132 x12", NULL);
}

static void test_dob(void **state)
{
	(void)state;
	FOUND("DATE_OF_BIRTH", "I was born on 12/03/1984 in Rome", "12/03/1984");
	FOUND("DATE_OF_BIRTH", "DOB: 1990-02-28", "1990-02-28");
	FOUND("DATE_OF_BIRTH", "date of birth March 5, 1979", "March 5, 1979");
	NOT_FOUND("DATE_OF_BIRTH", "the invoice of 12/03/1984");  /* no birth context */
	NOT_FOUND("DATE_OF_BIRTH", "born on 31/02/1984");         /* no such day */
	NOT_FOUND("DATE_OF_BIRTH", "birthday 2023-13-01");        /* no such month */
}

static void test_address(void **state)
{
	(void)state;
	FOUND("ADDRESS", "ship to 221 Baker Street, London please",
	      "221 Baker Street, London");
	FOUND("ADDRESS", "I live at 1600 Pennsylvania Avenue NW", NULL);
	FOUND("ADDRESS", "Meet at 228 Ringvej 144 tomorrow", "228 Ringvej 144");
	FOUND("ADDRESS", "now at Avenue d'Ouchy 109", "Avenue d'Ouchy 109");
	FOUND("ADDRESS", "unit: Apt. 902", "Apt. 902");
	NOT_FOUND("ADDRESS", "During 1972, the company grew");
	NOT_FOUND("ADDRESS", "I waited 3 days for the street to clear");
}

static void test_person(void **state)
{
	(void)state;
	FOUND("PERSON", "Hello, my name is Maria Lopez and I need help", "Maria Lopez");
	FOUND("PERSON", "Dear Mr. Okonkwo,", "Okonkwo");
	FOUND("PERSON", "Thanks,\nJames Whitfield", "James Whitfield");
	FOUND("PERSON", "Michael Brown will call you", "Michael Brown");
	NOT_FOUND("PERSON", "Hi there, the app is broken");
	NOT_FOUND("PERSON", "THIS IS URGENT please fix");
	NOT_FOUND("PERSON", "i am having trouble with my order");
	FOUND("PERSON", "Odile Vasseur lives in Lyon", "Odile Vasseur");
	NOT_FOUND("PERSON", "The Garmin Orchestra was founded in 1971");
	NOT_FOUND("PERSON", "Berkshire Corporation is an agency");
	/* the ticket's known customer, even without a cue */
	const char *t = "please ask zed about Quigley's order";
	struct sg_scan_input in = {0};
	in.customer_name = "Zed Quigley";
	assert_true(t_has(t_scan_in(SG_SCAN_INPUT, t, &in), t, "PERSON", "Quigley"));
}

/* The cues of the word pass: introductions, greetings, sign-offs, titles,
 * name fields, records that open with a name, and the near misses. */
static void test_person_cues(void **state)
{
	(void)state;
	FOUND("PERSON", "Hi, this is Priya Raman from billing", "Priya Raman");
	FOUND("PERSON", "I'm Tobias Lindqvist and my order is late", "Tobias Lindqvist");
	FOUND("PERSON", "I\xe2\x80\x99m Tobias Lindqvist, order 5512", "Tobias Lindqvist");
	FOUND("PERSON", "Hi Agnes, thanks for the quick reply", "Agnes");
	FOUND("PERSON", "Dear Dr. Haverkamp, the results are in", "Haverkamp");
	FOUND("PERSON", "Regards,\nWiebke Janssen", "Wiebke Janssen");
	FOUND("PERSON", "Kind regards, Ottilie Brandt", "Ottilie Brandt");
	FOUND("PERSON", "Thanks, Rosalind", "Rosalind");
	FOUND("PERSON", "Ms Okafor asked for a refund", "Okafor");
	FOUND("PERSON", "Full name: Ingeborg Sand\nOrder: 77", "Ingeborg Sand");
	FOUND("PERSON", "I want to add Edvard Petrussen as a beneficiary", "Edvard Petrussen");
	FOUND("PERSON", "She named him Timmie", "Timmie");
	FOUND("PERSON", "a comedy directed by Ugo Fenzi and starring Bracco", "Bracco");
	FOUND("PERSON", "\"We are moving that way,\" says Hartvigsson.", "Hartvigsson");
	/* a middle initial without its dot */
	FOUND("PERSON", "Daniela C Capon lives at 92597 Jahu 80, Liiva", "Daniela C Capon");
	FOUND("PERSON", "Ana M. Ruiz lives in Quito", "Ana M. Ruiz");
	/* records that open with a name */
	FOUND("PERSON", "Jamie Pratt  Talking-books clerk  Personal info", "Jamie Pratt");
	FOUND("PERSON", "leone mazzi\n\nnurse\n\npersonal info:", "leone mazzi");
	FOUND("PERSON", "eva kleist lives at 255 hersnapvej 18", "eva kleist");
	/* a known given name and a surname, no cue */
	FOUND("PERSON", "please forward this to Sophie Marchetti today", "Sophie Marchetti");
	/* near misses */
	NOT_FOUND("PERSON", "Hi team, the export is broken");
	NOT_FOUND("PERSON", "Thanks, that fixed it");
	NOT_FOUND("PERSON", "this is not working since Monday");
	NOT_FOUND("PERSON", "I want to add a new card");
	NOT_FOUND("PERSON", "Name: \nOrder: 77");
	NOT_FOUND("PERSON", "the error message says Invalid Token again");
	NOT_FOUND("PERSON", "order status  shipped");
	NOT_FOUND("PERSON", "Grace period ends soon");
	/* evasions: look-alike letters in the cue, full-width letters */
	FOUND("PERSON", "my n\xd0\xb0me is Ilse Vogt", "Ilse Vogt");
	FOUND("PERSON", "Dear \xef\xbc\xad\xef\xbd\x92. Okonkwo,", "Okonkwo");
}

/* The patterns that need no cue word: names joined by "and" before a
 * verb, a lone name opening a sentence before "lives", roles before a
 * full name, particles, names repeated and listed, and the near misses. */
static void test_person_patterns(void **state)
{
	(void)state;
	FOUND("PERSON", "Is this right? Torpy and Salinas were engineers.", "Torpy");
	FOUND("PERSON", "Is this right? Torpy and Salinas were engineers.", "Salinas");
	FOUND("PERSON", "Dexter lives on Ziegelgasse 19.", "Dexter");
	FOUND("PERSON", "Our songwriter Jarmila Chloupkov\xc3\xa1 wrote it", "Jarmila Chloupkov\xc3\xa1");
	FOUND("PERSON", "he was the assistant to Alvir D. Pu\xc5\xa1" "aver, and then", "Alvir D. Pu\xc5\xa1" "aver");
	FOUND("PERSON", "please contact Moira Pagan about it", "Moira Pagan");
	FOUND("PERSON", "It's under Caitlyn Schulz", "Caitlyn Schulz");
	/* particles stay inside the name; unit words end it */
	FOUND("PERSON", "my name is Maika van de Noort", "Maika van de Noort");
	FOUND("PERSON", "Dear Willemine ten Pas,", "Willemine ten Pas");
	FOUND("PERSON", "Dr. Cindy Holinka Apt. 117 5720 Skoanveien", "Cindy Holinka");
	/* a found name is masked where it appears again, and its words */
	FOUND("PERSON", "Gerth had paid; then Emily Gerth left", "Gerth");
	const char *t = "Maria Lopez wrote. Later Maria Lopez called.";
	const struct sg_scan_result *r = t_scan(t);
	size_t n = 0;
	for (size_t i = 0; i < r->nfindings; i++)
		n += strcmp(r->findings[i].type, "PERSON") == 0;
	assert_int_equal(n, 2);
	/* a list with a known given name in it */
	FOUND("PERSON", "They had 4: Hleb, Donna, Sheila and Andrea.", "Hleb");
	FOUND("PERSON", "They had 4: Hleb, Donna, Sheila and Andrea.", "Sheila");
	NOT_FOUND("PERSON", "Southern Africa was dry; Africa is big");
	/* near misses */
	NOT_FOUND("PERSON", "Sales and Marketing were closed on Monday");
	NOT_FOUND("PERSON", "We sell Apples, Pears and Plums.");
	/* one found name does not make a list of places names */
	const char *places = "states: Australia, Tasmania and Victoria.";
	assert_true(t_has(t_scan(places), places, "PERSON", "Victoria"));
	assert_false(t_has(t_scan(places), places, "PERSON", "Australia"));
	NOT_FOUND("PERSON", "it works with Google Pay and Apple Pay");
	NOT_FOUND("PERSON", "Everyone lives here");
	NOT_FOUND("PERSON", "Dear Customer, Thanks Team");
	NOT_FOUND("PERSON", "Monday and Tuesday were busy");
	NOT_FOUND("PERSON", "my kid lives in New York");
	NOT_FOUND("PERSON", "the player Xbox crashed");
	NOT_FOUND("PERSON", "Hi, I'm trying to pay");
}

static void test_secret(void **state)
{
	(void)state;
	FOUND("SECRET", "key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE");
	FOUND("SECRET", "password: hunter22!x ok", "hunter22!x");
	FOUND("SECRET", "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 x",
	      "ghp_abcdefghijklmnopqrstuvwxyz0123456789");
	const char *pk = "here -----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY----- done";
	FOUND("SECRET", pk, "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----");
	NOT_FOUND("SECRET", "I forgot my password, please reset it");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_card),
		cmocka_unit_test(test_card_evasions),
		cmocka_unit_test(test_ssn),
		cmocka_unit_test(test_iban),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_dob),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_person),
		cmocka_unit_test(test_person_cues),
		cmocka_unit_test(test_person_patterns),
		cmocka_unit_test(test_secret),
	};
	return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
