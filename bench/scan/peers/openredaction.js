// openredaction.js - bench/scan runner for the openredaction package with its
// default configuration (all built-in patterns). Its detect() returns the
// redacted text and each detection with a UTF-16 [start, end) position.
import { OpenRedaction } from "openredaction";
import { run } from "./common.js";

const TYPES = {
  EMAIL: "EMAIL", CREDIT_CARD: "CREDIT_CARD", SSN: "SSN", IBAN: "IBAN",
  UK_BANK_ACCOUNT_IBAN: "IBAN", IPV4: "IP_ADDRESS", IPV6: "IP_ADDRESS",
  ADDRESS_STREET: "ADDRESS", ADDRESS_PO_BOX: "ADDRESS", NAME: "PERSON",
  DATE_OF_BIRTH: "DATE_OF_BIRTH",
};
const mapType = (t) => TYPES[t] ?? (t.startsWith("PHONE") ? "PHONE" : null);

const shield = new OpenRedaction();
await run(async (text) => {
  const r = await shield.detect(text);
  return {
    masked: r.redacted,
    spans: r.detections.map((d) => ({ lib_type: d.type, s: d.position[0], e: d.position[1] })),
  };
}, mapType);
