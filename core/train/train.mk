# The training program: loop, evaluation, the reference's log lines.
libpactcl_la_SOURCES += \
	core/train/train_log.c \
	core/train/trainer.c \
	core/train/folder_source.c
noinst_HEADERS += core/train/train_log.h core/train/trainer.h core/train/folder_source.h
