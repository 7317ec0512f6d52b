# The GNU make rules of `make fuzz`.  The fuzzing section of Makefile.am
# runs this file with the variables below; it is apart because automake
# refuses GNU make's pattern rules.  Everything it makes is under FUZZ_DIR
# in the build tree:
#
#   FUZZ_DIR/obj/src/*.o          the program's modules, instrumented
#   FUZZ_DIR/obj/tests/fuzz_*.o   the targets
#   FUZZ_DIR/libmailproof-fuzz.a  the modules, so a target links what it uses
#   FUZZ_DIR/fuzz_NAME            one libFuzzer program per tests/fuzz/fuzz_NAME.c
#
# Variables (Makefile.am passes them):
#   CLANG            clang (configure's AC_PATH_PROG)
#   AR               ar
#   top_srcdir       the source tree, absolute
#   top_builddir     the build tree, absolute (for schema_id.h)
#   FUZZ_DIR         where to build
#   FUZZ_MODULES     the sources of the program libraries (.c and .h)
#   FUZZ_DEFS        configure's -D flags (PACKAGE_VERSION...)
#   FUZZ_SYSCONFDIR, FUZZ_PKGDATADIR  as the programs are built with
#   FUZZ_DEPS_CFLAGS the libraries' -I flags (pkg-config)
#   FUZZ_LIBS        the libraries to link
#   FUZZ_WARN_CFLAGS configure's warnings; -Werror is added

# The modules are compiled for coverage without libFuzzer's main(); the
# targets link it.  -fno-sanitize-recover makes undefined behaviour a crash
# that libFuzzer keeps, not a line in a log.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_WARN_CFLAGS) -Werror
FUZZ_CPPFLAGS := $(FUZZ_DEFS) -D_GNU_SOURCE -DSYSCONFDIR='"$(FUZZ_SYSCONFDIR)"' \
	-DPKGDATADIR='"$(FUZZ_PKGDATADIR)"' -I$(top_builddir) -I$(top_srcdir)/src \
	-DFUZZ_TOP_SRCDIR='"$(top_srcdir)"' $(FUZZ_DEPS_CFLAGS)

FUZZ_SRC := $(filter %.c,$(FUZZ_MODULES))
FUZZ_OBJ := $(FUZZ_SRC:src/%.c=$(FUZZ_DIR)/obj/src/%.o)
FUZZ_NAMES := $(patsubst $(top_srcdir)/tests/fuzz/fuzz_%.c,%,\
	$(wildcard $(top_srcdir)/tests/fuzz/fuzz_*.c))
FUZZ_PROGS := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_LIB := $(FUZZ_DIR)/libmailproof-fuzz.a

all: $(FUZZ_PROGS)
	@echo "fuzz targets in $(FUZZ_DIR): $(FUZZ_NAMES)"

$(FUZZ_DIR)/obj/src/%.o: $(top_srcdir)/src/%.c
	@mkdir -p $(@D)
	@echo "  CLANG    $<"
	@$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/tests/fuzz_%.o: $(top_srcdir)/tests/fuzz/fuzz_%.c
	@mkdir -p $(@D)
	@echo "  CLANG    $<"
	@$(CLANG) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	@$(AR) crs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz_%.o $(FUZZ_LIB)
	@echo "  LINK     $@"
	@$(CLANG) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# new flags here are new objects
$(FUZZ_OBJ) $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/tests/fuzz_%.o): $(top_srcdir)/tests/fuzz/fuzz.mk

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_DIR)/obj/tests/fuzz_%.d)

.PHONY: all
.SECONDARY:
