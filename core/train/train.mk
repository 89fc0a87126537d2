# The training program: loop, evaluation, the reference's log lines.
libpactcl_la_SOURCES += \
	core/train/train_log.c \
	core/train/trainer.c
noinst_HEADERS += core/train/train_log.h core/train/trainer.h
