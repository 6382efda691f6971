// redactpii-node.js - bench/scan runner for @redactpii/node with its default
// rules (credit card, email, name, phone, SSN). The library returns only the
// redacted text with a fixed placeholder per type; spans are recovered by
// aligning it with the original (common.js, quality run only).
import { Redactor } from "@redactpii/node";
import { run, alignRedacted } from "./common.js";

const TOKENS = {
  CREDIT_CARD_NUMBER: "CREDIT_CARD", EMAIL_ADDRESS: "EMAIL", PERSON_NAME: "PERSON",
  PHONE_NUMBER: "PHONE", US_SOCIAL_SECURITY_NUMBER: "SSN",
};
const TOKEN_RE = new RegExp(Object.keys(TOKENS).join("|"), "g");

const redactor = new Redactor();
await run((text, spans) => {
  const masked = redactor.redact(text);
  return { masked, spans: spans ? alignRedacted(text, masked, TOKEN_RE, (t) => t) : [] };
}, (t) => TOKENS[t] ?? null);
