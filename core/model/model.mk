# The model: training tape and MobileNetV3.
libpactcl_la_SOURCES += \
	core/model/graph.c \
	core/model/memory_plan.c \
	core/model/mobilenetv3.c \
	core/model/init.c \
	core/model/checkpoint.c
noinst_HEADERS += core/model/graph.h core/model/mobilenetv3.h core/model/checkpoint.h
libpactcl_la_LIBADD += -lm
