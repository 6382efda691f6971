# Default classifier models, trained at build time through `sopgate train`
# (deterministic: same data, same model file, in a few seconds).
# The Makefile includes this before its `all` rule: keep `all` the default.
MODELS += $(BUILD)/data/intent.model $(BUILD)/data/injection.model

$(BUILD)/data/intent.model: $(BUILD)/sopgate data/bitext_customer_service/train.jsonl \
		data/bitext_customer_service/dev.jsonl
	@mkdir -p $(dir $@)
	$(BUILD)/sopgate train --task intent --data data/bitext_customer_service/train.jsonl \
		--dev data/bitext_customer_service/dev.jsonl --out $@

# Injection vs benign: deepset prompt injections + jackhhao jailbreaks
# (label 1 = injection, 0 = benign), calibrated on both dev splits. Character
# 3-4-grams: the same precision and recall at the scanner's 0.8 threshold as
# 2-5-grams on the dev splits, at about 20 % less scanning time.
$(BUILD)/data/injection-train.jsonl: data/deepset_prompt_injections/train.jsonl \
		data/jackhhao_jailbreak/train.jsonl
	@mkdir -p $(dir $@)
	cat $^ | sed -e 's/"label": *1}$$/"label": "injection"}/' -e 's/"label": *0}$$/"label": "benign"}/' > $@
$(BUILD)/data/injection-dev.jsonl: data/deepset_prompt_injections/dev.jsonl \
		data/jackhhao_jailbreak/dev.jsonl
	@mkdir -p $(dir $@)
	cat $^ | sed -e 's/"label": *1}$$/"label": "injection"}/' -e 's/"label": *0}$$/"label": "benign"}/' > $@
$(BUILD)/data/injection.model: $(BUILD)/sopgate $(BUILD)/data/injection-train.jsonl \
		$(BUILD)/data/injection-dev.jsonl
	$(BUILD)/sopgate train --task injection --data $(BUILD)/data/injection-train.jsonl \
		--dev $(BUILD)/data/injection-dev.jsonl --char-ngrams 3-4 --out $@
