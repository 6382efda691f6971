# The scanner's compiled rule database, cached at build time so the first
# `sopgate scan` starts without compiling (it rebuilds a stale cache itself).
MODELS += $(BUILD)/data/scan-rules.hsdb
$(BUILD)/data/scan-rules.hsdb: $(BUILD)/sopgate
	@mkdir -p $(dir $@)
	@rm -f $@
	@printf '' | SOPGATE_SCAN_CACHE=$@ $(BUILD)/sopgate scan >/dev/null
