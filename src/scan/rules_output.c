/*
 * rules_output.c - the built-in output-risk rule table, for drafts: what a
 * reply must not promise, admit or state without a human (refunds, prices,
 * legal positions, security statements, outage apologies), links, and tone.
 * PII echo and the tone limits passed per text are checked in engine.c.
 */
#include "scan/scan_int.h"

#include "core/banned.h"

#define OUT SG_SCAN_OUTPUT
#define WE "(?:we|i|we'll|i'll|we've|i've|we have|i have|we will|i will|we are|i am|we're|i'm|we can|i can|we'd|i'd|let me|allow me to)"

const struct sg_scan_ruledef sg_scan_rules_output[] = {
	{"out.refund", SG_T_REFUND_COMMITMENT, CK_NONE, OUT, 1,
	 "\\b" WE " (?:(?:already|now|gladly|happily|just|also|go ahead and|be happy to|be glad to|going to) )*(?:issue|issued|issuing|process|processed|processing|refund|refunded|refunding|credit|credited|crediting|reimburse|reimbursed|reimbursing|return|returned|waive|waived|comp|compensate)(?: you| your| a| the| for)*(?: full| partial)? ?(?:refund|money|payment|credit|charge|amount|fee|\\$|€|£|[0-9])|\\b(?:your |a |the )?(?:full |partial )?refund (?:has been|was|will be|is being|is) (?:issued|processed|approved|initiated|sent|on its way)|\\byou(?:'ll| will) (?:receive|get|see) (?:a |your |the )?(?:full |partial )?(?:refund|money back|credit)|\\b(?:credited|refunded) (?:to|back to|on) your (?:account|card|original payment)", SG_GATE_ANY},
	{"out.pricing", SG_T_PRICING_COMMITMENT, CK_NONE, OUT, 1,
	 "\\b" WE " (?:(?:can|will|could|would|be happy to) )*(?:offer|give|apply|honou?r|match|lock in|guarantee|extend)(?: you)? (?:a |an |the |this |your )?(?:[0-9]{1,3} ?%|discount|special price|lower price|price|rate|free|complimentary|upgrade|extra)|\\b(?:[0-9]{1,3} ?% (?:off|discount)|price (?:match|guarantee|lock|freeze)|locked in (?:at|your)|free of charge|free (?:upgrade|month|months|year)|waive (?:the|your|any) (?:fee|fees|charge)|(?:we|i) guarantee|guaranteed (?:price|rate|uptime))\\b", SG_GATE_ANY},
	{"out.legal", SG_T_LEGAL_POSITION, CK_NONE, OUT, 1,
	 "\\b(?:(?:we are|we're|we were|acme is|the company is) (?:not )?(?:liable|legally responsible|at fault|negligent)|(?:no|not our|accept (?:full |no )?) ?(?:liability|responsibility|fault)|our (?:fault|negligence|mistake and we accept)|breach of contract|legally (?:obligated|required|bound|entitled)|we admit|in violation of|violat(?:ed|es|ing) (?:the|your) (?:contract|agreement|law|rights)|you (?:have no|do not have a|don't have a) (?:legal )?(?:claim|case)|this (?:is|was) (?:not )?(?:illegal|unlawful|legal))\\b", SG_GATE_ANY},
	{"out.security", SG_T_SECURITY_STATEMENT, CK_NONE, OUT, 1,
	 "\\b(?:there (?:was|has been|is|were|have been) (?:no|a|an) (?:data |security )?(?:breach|incident|compromise|leak|hack)|(?:your|customer|user|no) (?:data|information|account|details|records|passwords?) (?:was|were|has been|have been|is|are) (?:not |never )?(?:compromised|exposed|leaked|stolen|accessed|breached|safe|secure|affected)|we (?:were|have been|got) (?:hacked|breached|compromised|attacked)|(?:confirm|deny|can confirm|cannot confirm) (?:that )?(?:a |the |any )?(?:breach|incident|attack|hack|leak))\\b", SG_GATE_ANY},
	{"out.outage", SG_T_OUTAGE_APOLOGY, CK_NONE, OUT, 1,
	 "\\b(?:sorry|apologi[sz]e|apologies|regret) (?:for|about|that)(?: the| any| our| this)? ?(?:outage|downtime|service (?:interruption|disruption|outage)|disruption|interruption|incident)|\\b(?:the |this |our )?(?:outage|downtime) (?:was|is|has been) (?:caused|due|because)|\\bour (?:servers?|systems?|services?|platform|site|app) (?:was|were|went|is|are) (?:down|offline|unavailable)\\b", SG_GATE_ANY},
	{"out.link", SG_T_UNAPPROVED_LINK, CK_URL, OUT, 1,
	 "\\b(?:https?|ftp)://[^\\s<>\"'()\\[\\]{}]+|\\bwww\\.[a-z0-9\\-]+(?:\\.[a-z0-9\\-]+)+[^\\s<>\"'()\\[\\]{}]*", SG_GATE_URL},
	{"out.exclamation", SG_T_TONE, CK_NONE, OUT, 0, "!+", SG_GATE_ANY},
};

const size_t sg_scan_rules_output_count =
	sizeof(sg_scan_rules_output) / sizeof(sg_scan_rules_output[0]);
