/*
 * rules_pii.c - the built-in PII rule table (vectorscan patterns).
 *
 * Patterns run on NFKC-normalized, look-alike-folded text that keeps its
 * case, so name and address rules can rely on capital letters while cue
 * words are matched caselessly with (?i:...). Every hit is then checked by
 * its validator or extractor (scan_int.h, enum sg_scan_check).
 */
#include "scan/scan_int.h"

#include "core/banned.h"

#define IO (SG_SCAN_INPUT | SG_SCAN_OUTPUT)

/* digit groups may be split by spaces, dashes or dots ("4111 1111 ...",
 * "4-1-1-1 ..."); zero-width characters are gone after normalization */
#define SEP "[ \\-.]{0,2}"

/* a capitalized word (ASCII or a Latin-1/Latin Extended capital) */
#define CAPW "(?:[A-Z]|\\xc3[\\x80-\\x9e]|\\xc5[\\x81-\\xbd])(?:[a-z'\\-]|[\\xc3-\\xc5][\\x80-\\xbf])+"

#define STREET_TYPES \
	"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|" \
	"Place|Pl|Way|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|" \
	"Trail|Trl|Crescent|Close|Row|Alley|Plaza|Pike|Loop|Path|Heights|Hill|" \
	"Gardens|Grove|Mews|Walk|Ridge|Point|Harbor|Harbour|Bridge|Crossing|" \
	"Junction|View|Village|Villages|Station|Route|Expressway|Freeway|Turnpike|" \
	"Manor|Meadow|Meadows|Mill|Mills|Park|Pass|Spring|Springs|Summit|Valley|" \
	"Vista|Wells|Creek|Estates|Falls|Ford|Forest|Fork|Glen|Green|Haven|Knoll|" \
	"Lake|Lakes|Landing|Island|Isle|Gateway|Commons|Center|Centre|Camp|Canyon|" \
	"Cape|Causeway|Cliff|Club|Corner|Corners|Cove|Dale|Dam|Divide|Extension|" \
	"Field|Fields|Flat|Flats|Fort|Garden|Gap|Hollow|Inlet|Key|Light|Lights|" \
	"Lock|Locks|Lodge|Mall|Mission|Motorway|Mount|Mountain|Neck|Orchard|Oval|" \
	"Pines|Port|Prairie|Radial|Ramp|Ranch|Rapids|Rest|Shoal|Shoals|Shore|" \
	"Shores|Skyway|Spur|Stream|Throughway|Trace|Track|Trafficway|Tunnel|" \
	"Union|Unions|Viaduct|Ville|Wall|Well"

/* street-name endings of Nordic, Germanic and Central European streets,
 * written "Name+ending number" ("Ringvej 144", "Pachergasse 64") */
#define STREET_SUFFIX \
	"vej|gade|gasse|stra\\xc3\\x9fe|strasse|str\\.|weg|kuja|katu|tie|polku|" \
	"laan|straat|gracht|plein|singel|kade|dreef|hof|gatan|v\\xc3\\xa4gen|" \
	"v\\xc3\\xa4g|veien|vegen|vei|gata|utca|u\\.|ulica|all\\xc3\\xa9|platz|" \
	"damm|ufer|markt|steig|pfad|stien|bakken|torv|stig|gr\\xc3\\xa4nd|str\\xc3\\xa6de|str\\xc3\\xa6ti|" \
	"v\\xc3\\xa4gur|braut|stigur|g\\xc3\\xb6tu|gata|tori|rinne|ranta|" \
	"m\\xc3\\xa4ki|puisto|aukio|hove"

/* Latin street words written first: "Avenue d'Ouchy 109", "Rua X 45" */
#define STREET_PREFIX \
	"Rue|Via|Viale|Calle|Avenida|Avenue|Rua|Piazza|Plaza|Carrer|Chemin|" \
	"Boulevard|Strada|Corso|Largo|Travessa|Pra\\xc3\\xa7a|Ulica|Route|Allee|" \
	"Rambla|Paseo|Camino|Carretera|Quai|Place|Impasse|Rotonda|Vicolo|Estrada|" \
	"Alameda|Ronda|Traverse|Sentier|Cours"

/* a phone extension: "x769", " ext. 12", ", extension 4" */
#define EXT ",? ?(?:[xX]|[eE]xt\\.?|[eE]xtension|#) ?[0-9]{1,6}"

#define UNIT "(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|Bldg|Building)\\.? ?#? ?[0-9]{1,5}[A-Za-z]?"

#define MONTHS "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

/* Common given names across the languages customers write in; a known
 * first name followed by a capitalized surname is a PERSON without a cue. */
#define FIRST_NAMES \
	"James|John|Robert|Michael|William|David|Richard|Joseph|Thomas|Charles|" \
	"Christopher|Daniel|Matthew|Anthony|Mark|Donald|Steven|Paul|Andrew|" \
	"Joshua|Kenneth|Kevin|Brian|George|Timothy|Ronald|Edward|Jason|Jeffrey|" \
	"Ryan|Jacob|Gary|Nicholas|Eric|Jonathan|Stephen|Larry|Justin|Scott|" \
	"Brandon|Benjamin|Samuel|Gregory|Alexander|Frank|Patrick|Raymond|Jack|" \
	"Dennis|Jerry|Tyler|Aaron|Jose|Adam|Nathan|Henry|Douglas|Zachary|Peter|" \
	"Kyle|Ethan|Walter|Noah|Jeremy|Christian|Keith|Roger|Terry|Gerald|Harold|" \
	"Sean|Austin|Carl|Arthur|Lawrence|Dylan|Jesse|Jordan|Bryan|Billy|Joe|" \
	"Bruce|Gabriel|Logan|Albert|Willie|Alan|Juan|Wayne|Elijah|Randy|Roy|" \
	"Vincent|Ralph|Eugene|Russell|Bobby|Mason|Philip|Louis|Mary|Patricia|" \
	"Jennifer|Linda|Elizabeth|Barbara|Susan|Jessica|Sarah|Karen|Lisa|Nancy|" \
	"Betty|Margaret|Sandra|Ashley|Kimberly|Emily|Donna|Michelle|Carol|" \
	"Amanda|Dorothy|Melissa|Deborah|Stephanie|Rebecca|Sharon|Laura|Cynthia|" \
	"Kathleen|Amy|Angela|Shirley|Anna|Brenda|Pamela|Emma|Nicole|Helen|" \
	"Samantha|Katherine|Christine|Debra|Rachel|Carolyn|Janet|Catherine|" \
	"Maria|Heather|Diane|Ruth|Julie|Olivia|Joyce|Virginia|Victoria|Kelly|" \
	"Lauren|Christina|Joan|Evelyn|Judith|Megan|Andrea|Cheryl|Hannah|Jacqueline|" \
	"Martha|Gloria|Teresa|Ann|Sara|Madison|Frances|Kathryn|Janice|Jean|Abigail|" \
	"Alice|Judy|Sophia|Grace|Denise|Amber|Doris|Marilyn|Danielle|Beverly|" \
	"Isabella|Theresa|Diana|Natalie|Brittany|Charlotte|Marie|Kayla|Alexis|" \
	"Lori|Ella|Alma|Tómas|Gaetane|Derek|Hodge|Eklund|Cormac|Benito|Lara|Carly|Eve|Kristíana|Vide|Ján|Manuel|Alexandra|Kevin|Martin|Stephan|Lars|Anders|Jens|" \
	"Niels|Søren|Mads|Mikkel|Henrik|Magnus|Erik|Emil|Oskar|Oscar|Johan|Karl|" \
	"Nils|Sven|Olaf|Ole|Bjørn|Jonas|Lukas|Leon|Felix|Maximilian|Paul|Finn|" \
	"Jan|Tomas|Tomáš|Jiří|Petr|Pavel|Martin|Jakub|Marek|Piotr|Krzysztof|" \
	"Andrzej|Tomasz|Paweł|Michał|Marcin|Jerzy|Adam|Łukasz|Ewa|Anna|Katarzyna|" \
	"Małgorzata|Agnieszka|Barbara|Krystyna|Magdalena|Joanna|Zofia|Jana|" \
	"Eva|Hana|Lucie|Petra|Kateřina|Lenka|Veronika|Tereza|Marie|Ivan|Sergei|" \
	"Sergey|Dmitri|Dmitry|Alexei|Andrei|Mikhail|Nikolai|Vladimir|Olga|" \
	"Tatiana|Natalia|Elena|Irina|Svetlana|Yulia|Ekaterina|Mstislav|Pierre|" \
	"Jean|Louis|Michel|Philippe|Alain|Nicolas|François|Julien|Antoine|" \
	"Camille|Julie|Sophie|Claire|Céline|Isabelle|Nathalie|Chantal|Giuseppe|" \
	"Giovanni|Antonio|Mario|Luigi|Francesco|Marco|Alessandro|Andrea|Luca|" \
	"Matteo|Lorenzo|Giulia|Francesca|Chiara|Sofia|Valentina|Alessia|Cettina|" \
	"Carlos|Luis|Javier|Miguel|Pedro|Alejandro|Pablo|Diego|Sergio|Jorge|" \
	"Fernando|Rafael|Carmen|Lucia|Laura|Paula|Marta|Elena|Beatriz|Isabel|" \
	"João|Tiago|Rui|Ana|Mariana|Beatriz|Inês|Joana|Hans|Peter|Klaus|Jürgen|" \
	"Wolfgang|Helmut|Uwe|Dieter|Ursula|Monika|Sabine|Petra|Heike|Andrea|" \
	"Matti|Mikko|Juha|Timo|Jari|Antti|Keijo|Pekka|Seppo|Heikki|Aino|Sanna|" \
	"Jaana|Tiina|Päivi|Pieter|Jeroen|Bram|Sander|Daan|Sem|Ruben|Thijs|Lotte|" \
	"Sanne|Femke|Anouk|Fleur|Ahmed|Mohammed|Muhammad|Ali|Omar|Hassan|Fatima|" \
	"Aisha|Yusuf|Ibrahim|Mustafa|Mehmet|Ayşe|Wei|Li|Hiroshi|Takashi|Yuki|" \
	"Haruto|Sakura|Raj|Rahul|Priya|Amit|Anil|Sunil|Deepak|Neha|Pooja|Arjun|" \
	"Vilhjalmur|Jón|Sigurður|Guðrún|Kristín|Ewan|Isla|Callum|Aidan|Liam|" \
	"Sean|Siobhan|Aoife|Ciara|Niamh|Conor|Declan|Selam|Vivian|Vanessa|Donka|" \
	"Matthias|Jerzy|Gerrit|Victor|Hugo|Joakim|Cendrillon|Marta|Ingrid|Astrid|" \
	"Sigrid|Freya|Elsa|Maja|Ida|Clara|Lena|Mia|Lea|Hanna|Amelie|Johanna|" \
	"Leonie|Luisa|Zoe|Chloe|Lily|Ava|Ruby|Poppy|Jessica|Holly|Ellie|Bethany"

/* The given names as one '|'-separated string, for person.c. */
const char sg_scan_first_names[] = FIRST_NAMES;

const struct sg_scan_ruledef sg_scan_rules_pii[] = {
	{"pii.email", SG_T_EMAIL, CK_EMAIL, IO, 1,
	 "[a-z0-9][a-z0-9._%+\\-]*@[a-z0-9][a-z0-9\\-]*(?:\\.[a-z0-9\\-]+)*\\.[a-z]{2,24}", SG_GATE_AT},
	{"pii.card", SG_T_CREDIT_CARD, CK_CARD, IO, 0,
	 "\\b[0-9](?:" SEP "[0-9]){11,18}\\b", SG_GATE_NUM},
	{"pii.ssn", SG_T_SSN, CK_SSN, IO, 0,
	 "\\b[0-9]{3}[ \\-.][0-9]{2}[ \\-.][0-9]{4}\\b", SG_GATE_NUM},
	{"pii.ssn_bare", SG_T_SSN, CK_SSN_BARE, IO, 0, "\\b[0-9]{9}\\b", SG_GATE_NUM},
	{"pii.iban", SG_T_IBAN, CK_IBAN, IO, 1,
	 "\\b[a-z]{2}[0-9]{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?\\b", SG_GATE_NUM},
	{"pii.ipv4", SG_T_IP_ADDRESS, CK_IPV4, IO, 0,
	 "\\b[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\b", SG_GATE_NUM},
	{"pii.ipv6", SG_T_IP_ADDRESS, CK_IPV6, IO, 1,
	 "(?:\\b[0-9a-f]{1,4}|::)(?::[0-9a-f]{0,4}){2,7}(?:[0-9.]{7,15})?", SG_GATE_V6},
	{"pii.phone_intl", SG_T_PHONE, CK_PHONE, IO, 0,
	 "\\+ ?[0-9]{1,3}(?:[ .\\-]?\\(?[0-9]{1,4}\\)?){1,6}(?:" EXT ")?", SG_GATE_NUM},
	{"pii.phone", SG_T_PHONE, CK_PHONE, IO, 0,
	 "(?:\\b[0-9]{1,4}[ .\\-]?)?(?:\\([0-9]{1,4}\\) ?|\\b[0-9]{2,5}[ .\\-])[0-9]{2,4}(?:[ .\\-][0-9]{2,4}){0,3}(?:" EXT ")?\\b", SG_GATE_NUM},
	/* national numbers written as an area code and one block
	 * ("0341 8387176", "99 577450") */
	{"pii.phone_national", SG_T_PHONE, CK_PHONE, IO, 0,
	 "\\b(?:0[0-9]{1,4}[ .\\-]?|[1-9][0-9]{1,3} )[0-9]{5,8}(?:" EXT ")?\\b", SG_GATE_NUM},
	{"pii.phone_bare", SG_T_PHONE, CK_PHONE, IO, 0, "\\b[0-9]{10,11}\\b", SG_GATE_NUM},
	{"pii.dob_numeric", SG_T_DATE_OF_BIRTH, CK_DATE_BIRTH, IO, 0,
	 "\\b[0-9]{1,2}[/.\\-][0-9]{1,2}[/.\\-](?:[0-9]{4}|[0-9]{2})\\b", SG_GATE_NUM},
	{"pii.dob_iso", SG_T_DATE_OF_BIRTH, CK_DATE_BIRTH, IO, 0,
	 "\\b[0-9]{4}[\\-/.][0-9]{1,2}[\\-/.][0-9]{1,2}\\b", SG_GATE_NUM},
	{"pii.dob_text", SG_T_DATE_OF_BIRTH, CK_DATE_BIRTH, IO, 1,
	 "\\b(?:[0-9]{1,2}(?:st|nd|rd|th)?(?: of)? " MONTHS "\\.?,? [0-9]{4}|"
	 MONTHS "\\.? [0-9]{1,2}(?:st|nd|rd|th)?,? [0-9]{4})\\b", SG_GATE_NUM},
	{"pii.address_us", SG_T_ADDRESS, CK_ADDRESS, IO, 0,
	 "\\b[0-9]{1,6}[A-Za-z]?(?: " CAPW "| [0-9]{1,3}(?:st|nd|rd|th)){1,4} (?:" STREET_TYPES ")\\b\\.?", SG_GATE_NUM},
	{"pii.address_eu", SG_T_ADDRESS, CK_ADDRESS, IO, 0,
	 "\\b" CAPW "(?:" STREET_SUFFIX ") [0-9]{1,5}[A-Za-z]?\\b", SG_GATE_NUM},
	{"pii.address_latin", SG_T_ADDRESS, CK_ADDRESS, IO, 0,
	 "\\b(?:[0-9]{1,5},? )?(?:" STREET_PREFIX ")(?: [A-Za-z\\x80-\\xff'\\-]+){1,4},? [0-9]{1,5}[A-Za-z]?\\b", SG_GATE_NUM},
	{"pii.address_nn", SG_T_ADDRESS, CK_ADDRESS, IO, 0,
	 "\\b[0-9]{1,5} " CAPW "(?: " CAPW ")? [0-9]{1,5}[A-Za-z]?\\b", SG_GATE_NUM},
	{"pii.address_unit", SG_T_ADDRESS, CK_ADDRESS, IO, 0, "\\b" UNIT "\\b", SG_GATE_NUM},
	{"pii.address_pobox", SG_T_ADDRESS, CK_NONE, IO, 1,
	 "\\bp\\.? ?o\\.? box [0-9]{1,6}\\b", SG_GATE_NUM},
	{"pii.address_cue", SG_T_ADDRESS, CK_ADDRESS_CUE, IO, 1,
	 "\\b(?:lives? at|living at|resides? at|reside at|located at|my address is|address is|ship(?:ped)? it to|ship(?:ped)? to|deliver(?:ed)? to|send it to|mail(?:ed)? to|moved to|change my address to|address to the same)\\b|\\baddress(?:es)? ?[:=]", SG_GATE_ANY},
	/* PERSON: found by the word pass in person.c (a vectorscan
	 * alternation of hundreds of names costs more than the rest of the
	 * table together); the extractors are the same */
	{"pii.person_cue", SG_T_PERSON, CK_PERSON_CUE, IO, 1, NULL, SG_GATE_ANY},
	{"pii.person_name", SG_T_PERSON, CK_PERSON_NAME, IO, 0, NULL, SG_GATE_ANY},
	{"pii.person_verb", SG_T_PERSON, CK_PERSON_PAIR, IO, 0, NULL, SG_GATE_ANY},
	{"pii.person_record", SG_T_PERSON, CK_PERSON_RECORD, IO, 0, NULL, SG_GATE_ANY},
	{"pii.secret_aws", SG_T_SECRET, CK_NONE, IO, 0, "\\b(?:AKIA|ASIA)[0-9A-Z]{16}\\b", SG_GATE_ANY},
	{"pii.secret_openai", SG_T_SECRET, CK_NONE, IO, 0, "\\bsk-(?:proj-|ant-)?[A-Za-z0-9_\\-]{20,}", SG_GATE_ANY},
	{"pii.secret_github", SG_T_SECRET, CK_NONE, IO, 0, "\\bgh[pousr]_[A-Za-z0-9]{36,}", SG_GATE_ANY},
	{"pii.secret_slack", SG_T_SECRET, CK_NONE, IO, 0, "\\bxox[abposr]-[A-Za-z0-9\\-]{10,}", SG_GATE_ANY},
	{"pii.secret_stripe", SG_T_SECRET, CK_NONE, IO, 0, "\\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}", SG_GATE_ANY},
	{"pii.secret_google", SG_T_SECRET, CK_NONE, IO, 0, "\\bAIza[0-9A-Za-z_\\-]{35}", SG_GATE_ANY},
	{"pii.secret_jwt", SG_T_SECRET, CK_NONE, IO, 0,
	 "\\beyJ[A-Za-z0-9_\\-]{8,}\\.eyJ[A-Za-z0-9_\\-]{8,}\\.[A-Za-z0-9_\\-]{8,}", SG_GATE_ANY},
	{"pii.secret_private_key", SG_T_SECRET, CK_PRIVATE_KEY, IO, 0,
	 "-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----", SG_GATE_ANY},
	{"pii.secret_password", SG_T_SECRET, CK_SECRET_VALUE, IO, 1,
	 "\\b(?:password|passwd|pwd|passcode|passphrase|api[_ \\-]?key|secret|access[_ ]token|auth[_ ]token|token)(?: is)? ?[:=]|\\bmy (?:password|passcode|pin) is\\b", SG_GATE_ANY},
};

const size_t sg_scan_rules_pii_count =
	sizeof(sg_scan_rules_pii) / sizeof(sg_scan_rules_pii[0]);
