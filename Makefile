# Lambda builds for `sam build` (template.yaml: Metadata BuildMethod: makefile).
#
# SAM runs `make --makefile <this file> build-<LogicalId>` with ARTIFACTS_DIR set, once per
# function. All four functions ship the same self-contained `bootstrap` executable (they differ
# only by _HANDLER), so the project is published once into a cache and each target copies it.
# The publish runs under a lock because `sam build --parallel` starts the targets together.
#
# Try it without SAM:  make build-IngestFunction ARTIFACTS_DIR=$(mktemp -d)

# Logical ids of template.yaml's functions; a test checks the two lists agree.
FUNCTIONS := IngestFunction ServiceGraphFunction CostReportFunction XRayReplayFunction

# SAM may run make from a scratch copy, so everything is located from this file, not the cwd.
REPO_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PROJECT := $(REPO_ROOT)/functions/Pipeline.Functions
RUNTIME_ID := linux-arm64
CACHE_DIR := $(REPO_ROOT)/.aws-sam/publish-cache/$(RUNTIME_ID)
PUBLISH_DIR := $(CACHE_DIR)/out
# A separate artifacts path keeps this RID's obj/ away from the developer's own builds.
BUILD_DIR := $(CACHE_DIR)/build

DOTNET ?= dotnet
PUBLISH_FLAGS := -c Release -r $(RUNTIME_ID) --self-contained -p:PublishReadyToRun=true

# The publish is redone when any input of the functions' projects changes.
SOURCES := $(shell find $(REPO_ROOT)/functions \( -name bin -o -name obj \) -prune -o \
             -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \) -print 2>/dev/null) \
           $(wildcard $(REPO_ROOT)/Directory.Build.props $(REPO_ROOT)/Directory.Packages.props \
             $(REPO_ROOT)/global.json $(REPO_ROOT)/BannedSymbols.txt $(REPO_ROOT)/.editorconfig)

FLOCK := $(shell command -v flock 2>/dev/null)
LOCKED := $(if $(FLOCK),$(FLOCK) $(CACHE_DIR).lock,)

.PHONY: $(addprefix build-,$(FUNCTIONS)) publish clean

$(addprefix build-,$(FUNCTIONS)):
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 2; }
	@mkdir -p "$(ARTIFACTS_DIR)"
	mkdir -p "$(dir $(CACHE_DIR))" && $(LOCKED) $(MAKE) --no-print-directory --makefile "$(abspath $(lastword $(MAKEFILE_LIST)))" publish
	cp -a "$(PUBLISH_DIR)/." "$(ARTIFACTS_DIR)/"

publish: $(PUBLISH_DIR)/bootstrap

$(PUBLISH_DIR)/bootstrap: $(SOURCES)
	rm -rf "$(PUBLISH_DIR)"
	$(DOTNET) publish "$(PROJECT)" $(PUBLISH_FLAGS) --artifacts-path "$(BUILD_DIR)" -o "$(PUBLISH_DIR)" -v quiet -clp:ErrorsOnly
	@test -x "$@" || { echo "publish did not produce $@" >&2; exit 1; }
	touch "$@"

clean:
	rm -rf "$(CACHE_DIR)"
