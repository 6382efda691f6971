// redact-pii.js - bench/scan runner for redact-pii (SyncRedactor, its default
// built-in redactors; no cloud calls). The library returns only the redacted
// text with one placeholder per built-in; spans are recovered by aligning it
// with the original (common.js, quality run only).
import redactPii from "redact-pii";
import { run, alignRedacted } from "./common.js";

const TOKENS = {
  CREDIT_CARD_NUMBER: "CREDIT_CARD", STREET_ADDRESS: "ADDRESS", ZIPCODE: null,
  PHONE_NUMBER: "PHONE", IP_ADDRESS: "IP_ADDRESS", US_SOCIAL_SECURITY_NUMBER: "SSN",
  EMAIL_ADDRESS: "EMAIL", USERNAME: null, PASSWORD: null, CREDENTIALS: null,
  DIGITS: null, URL: null, PERSON_NAME: "PERSON",
};
// Longest first so that no placeholder is read as a prefix of another.
const TOKEN_RE = new RegExp(Object.keys(TOKENS).sort((a, b) => b.length - a.length).join("|"), "g");

const redactor = new redactPii.SyncRedactor();
await run((text, spans) => {
  const masked = redactor.redact(text);
  return { masked, spans: spans ? alignRedacted(text, masked, TOKEN_RE, (t) => t) : [] };
}, (t) => TOKENS[t] ?? null);
