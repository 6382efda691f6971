/*
 * rules_risk.c - the built-in input-risk rule table: prompt injection,
 * legal and chargeback threats, security incidents, requests for a human,
 * self-harm, press and regulators. All caseless, on normalized text with
 * look-alike letters folded, so "ıgnore" or full-width letters still hit.
 */
#include "scan/scan_int.h"

#include "core/banned.h"

#define IN SG_SCAN_INPUT

#define PREV "(?:all |any |the |your |my |these |those |every )*(?:previous|prior|above|earlier|preceding|former|initial|original|system|old|given|existing)?"
#define INSTR "(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance|context|commands?|orders|programming|constraints|restrictions|policies|messages?|text)"

const struct sg_scan_ruledef sg_scan_rules_risk[] = {
	/* prompt injection: overriding instructions */
	{"inj.ignore", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:ignore|disregard|forget|skip|override|bypass|drop|abandon|discard|neglect) " PREV " ?(?:[a-z]+ )?" INSTR "\\b", SG_GATE_ANY},
	{"inj.forget_everything", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:forget|ignore|disregard) (?:about )?(?:everything|all(?: of)? (?:that|this|the above)|what (?:you were|i) (?:told|said))\\b", SG_GATE_ANY},
	{"inj.new_instructions", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:new|updated|real|actual|true|secret|hidden|additional) (?:instructions|task|orders|rules|prompt)\\s*:|\\byour new (?:task|instructions|job|goal|role) (?:is|are)\\b|\\b(?:now|instead),? your (?:task|job|goal) is\\b", SG_GATE_ANY},
	{"inj.reveal", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:reveal|show|print|repeat|output|display|leak|tell me|give me|write|what (?:is|are|was|were)|spell out|recite|dump|share) (?:me )?(?:your|the|all|this|my)? ?(?:full |exact |entire |original |initial |hidden |secret |internal |system |first )*(?:system prompt|prompt|instructions|initial prompt|system message|rules you were given|guidelines|configuration|password|secret key)", SG_GATE_ANY},
	{"inj.system_prompt", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:system prompt|system message|prompt injection|jailbreak|jailbroken|developer mode|dan mode|god mode|do anything now|unfiltered mode|no (?:restrictions|limitations|filters|rules|guidelines|ethics|morals)|without (?:any )?(?:restrictions|limitations|filters|censorship|rules|ethical))\\b", SG_GATE_ANY},
	/* role-play alone is common in benign prompts; it counts when it sheds
	 * the rules or takes a persona "from now on" */
	{"inj.roleplay", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:you are now (?:an? )?(?:dan|unfiltered|uncensored|unrestricted|evil|jailbroken|free)|from now on,? you(?: are|'re| will)(?: going to)? (?:act|be|respond|answer|pretend)|stay in character|(?:pretend|act|roleplay|role-play|imagine)(?: as if| that)? (?:you are|you're|to be|as) (?:an? )?(?:ai|assistant|chatbot|model|language model|gpt|chatgpt)? ?(?:with(?:out)? (?:no |any )?(?:restrictions|limits|filters|rules|guidelines|ethics|morals)|that (?:has no|ignores|doesn't follow|does not follow|can do anything)|(?:unfiltered|uncensored|unrestricted|amoral|evil)))", SG_GATE_ANY},
	{"inj.dan", SG_T_PROMPT_INJECTION, CK_NONE, IN, 0,
	 "\\b(?:DAN|STAN|DUDE|AIM|BetterDAN|AntiGPT|UCAR)\\b(?: mode| prompt|,? (?:which|who) stands)", SG_GATE_ANY},
	{"inj.delimiter", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "<\\|(?:im_start|im_end|system|endoftext|user|assistant)\\|>|\\[/?(?:inst|sys|system)\\]|<</?sys>>|</?(?:system|instructions?)>|^#{2,} ?(?:system|instruction|new instructions)|\\bend of (?:system )?prompt\\b|-{3,} ?(?:system|end of (?:user )?input)", SG_GATE_ANY},
	{"inj.encoding", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:decode|decipher|translate|execute|run|follow) (?:this|the following|these)(?: [a-z]+)? (?:base64|rot13|hex|binary|encoded|cipher|instructions?)\\b|\\b(?:base64|rot13)[- ](?:encoded|decode)", SG_GATE_ANY},
	{"inj.german", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:ignoriere|ignorieren sie|vergiss|vergessen sie|missachte) (?:alle |die |deine |ihre |alles|bisherigen |vorherigen |vorangehenden |obigen |vorigen )*(?:anweisungen|befehle|instruktionen|regeln|aufgaben|vorgaben)?|\\bvergiss(?: einfach)? alles\\b|\\bvergessen sie alles\\b|\\bneue (?:aufgabe|anweisung)\\b|\\bnun bist du\\b|\\bdu bist (?:jetzt|nun)\\b", SG_GATE_ANY},
	{"inj.override_safety", SG_T_PROMPT_INJECTION, CK_NONE, IN, 1,
	 "\\b(?:ignore|disable|turn off|bypass|override|deactivate) (?:your |the |all )?(?:safety|content|ethical|moderation|openai|security) (?:filters?|guidelines|policies|rules|protocols|settings|restrictions)\\b", SG_GATE_ANY},

	/* threats */
	{"risk.legal", SG_T_LEGAL_THREAT, CK_NONE, IN, 1,
	 "\\b(?:sue|suing|sued|lawsuit|law suit|legal action|legal proceedings|my (?:lawyer|attorney|solicitor|legal team|counsel)|an? (?:lawyer|attorney|solicitor)|take you to court|see you in court|small claims|class action|cease and desist|litigation|litigate|court order|file a claim against|press charges)\\b", SG_GATE_ANY},
	{"risk.chargeback", SG_T_CHARGEBACK_THREAT, CK_NONE, IN, 1,
	 "\\b(?:charge ?backs?|dispute (?:the|this|that|a|my) (?:charge|transaction|payment)|disputing (?:the|this) (?:charge|payment)|(?:call|contact|tell|ask) my (?:bank|credit card (?:company|issuer)|card issuer)|reverse the (?:charge|payment|transaction)|file a dispute|stop (?:the )?payment|cancel (?:the )?payment with my bank)\\b", SG_GATE_ANY},
	{"risk.security", SG_T_SECURITY_INCIDENT, CK_NONE, IN, 1,
	 "\\b(?:data )?breach(?:ed)?\\b|\\b(?:hacked|hacker|hacking|unauthori[sz]ed|phishing|phished|compromised|malware|ransomware|spyware|keylogger|account takeover|identity theft|credential stuffing)\\b|\\b(?:exposed|leaked|stolen) (?:data|information|credentials|passwords?|card|details|records)\\b|\\bdata leak\\b|\\bsomeone (?:else )?(?:logged|accessed|got) into\\b|\\b(?:suspicious|fraudulent) (?:login|activity|charges?|transactions?|emails?)\\b|\\bi didn'?t (?:make|authori[sz]e) (?:this|these|that)\\b", SG_GATE_ANY},
	{"risk.human", SG_T_HUMAN_REQUEST, CK_NONE, IN, 1,
	 "\\b(?:speak|talk|chat|connect me|put me through|transfer me)(?: to| with)? (?:a |an |your |the |some )?(?:real |actual |live )?(?:human|person|people|agent|representative|rep|manager|supervisor|someone|somebody|operator|staff)\\b|\\b(?:real|actual|live) (?:human|person|agent)\\b|\\bhuman (?:agent|being|support)\\b|\\b(?:i want|i need|get me|give me) (?:a |an |your )?(?:human|manager|supervisor|representative)\\b|\\bstop (?:the )?(?:bot|automated)|\\bnot (?:a|another|this) (?:bot|robot|machine)\\b|\\bescalate (?:this|my)\\b", SG_GATE_ANY},
	{"risk.self_harm", SG_T_SELF_HARM, CK_NONE, IN, 1,
	 "\\b(?:kill(?:ing)? myself|suicid(?:e|al)|end (?:my|it all|my own) (?:life|lives)?|end it all|take my (?:own )?life|self[- ]harm|hurt(?:ing)? myself|cut(?:ting)? myself|want to die|wanna die|don'?t want to (?:live|be alive|wake up)|no reason to live|better off dead|not worth living)\\b", SG_GATE_ANY},
	{"risk.press", SG_T_PRESS, CK_NONE, IN, 1,
	 "\\b(?:journalists?|reporters?|the press|the media|news (?:outlets?|station|paper)|newspaper|go(?:ing)? viral|went viral|(?:post|share|put|write) (?:this|it|about (?:this|it|you)) (?:on|to|all over) (?:twitter|x|reddit|facebook|tiktok|instagram|social media|youtube|linkedin)|tweet(?:ing)? about|write an? (?:article|story|blog post|review) about|(?:bbc|cnn|nytimes|new york times|guardian|techcrunch))\\b", SG_GATE_ANY},
	{"risk.regulatory", SG_T_REGULATORY, CK_NONE, IN, 1,
	 "\\b(?:gdpr|ccpa|cpra|lgpd|pipeda|hipaa|data protection (?:authority|officer|regulator)|ico|ftc|cfpb|fca|sec|ombudsman|regulators?|attorney general|consumer protection|better business bureau|bbb|trading standards|(?:file|lodge|submit) a (?:formal )?complaint (?:with|to)|subject access request|dsar|right to (?:be forgotten|erasure)|data portability)\\b", SG_GATE_ANY},
};

const size_t sg_scan_rules_risk_count =
	sizeof(sg_scan_rules_risk) / sizeof(sg_scan_rules_risk[0]);
