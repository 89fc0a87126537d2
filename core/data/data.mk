# core/data: image folder scan, JPEG/PNG decoding, Pillow-exact resampling,
# the reference's transforms, numpy's sampler order and the threaded loader.
libpactcl_la_SOURCES += \
	core/data/image_decode.c \
	core/data/jpeg.c \
	core/data/png.c \
	core/data/resize.c \
	core/data/transforms.c \
	core/data/image_folder.c \
	core/data/sampler.c \
	core/data/loader.c
libpactcl_la_CFLAGS += $(PNG_CFLAGS) $(JPEG_CFLAGS)
libpactcl_la_LIBADD += $(PNG_LIBS) $(JPEG_LIBS)
noinst_HEADERS += \
	core/data/image.h \
	core/data/codec.h \
	core/data/resize.h \
	core/data/transforms.h \
	core/data/image_folder.h \
	core/data/sampler.h \
	core/data/loader.h

# Expected outputs made by tests/fixtures/images/make_fixtures.py (Pillow and
# numpy, dev-time only): see the script for what each file holds.
IMAGE_FIXTURES = \
	tests/fixtures/images/bad_bomb.png \
	tests/fixtures/images/bad_empty.jpg \
	tests/fixtures/images/bad_garbage.png \
	tests/fixtures/images/bad_no_eoi.jpg \
	tests/fixtures/images/bad_truncated.jpg \
	tests/fixtures/images/bad_truncated.png \
	tests/fixtures/images/crop_100x60_s2_17_9_61x43_to_24.rgb \
	tests/fixtures/images/crop_37x23_s1_5_3_7x19_to_16.rgb \
	tests/fixtures/images/eval_50x30_s6_r32_c28.f32 \
	tests/fixtures/images/jpeg_cmyk.jpg \
	tests/fixtures/images/jpeg_cmyk.rgb \
	tests/fixtures/images/jpeg_gray.jpg \
	tests/fixtures/images/jpeg_gray.rgb \
	tests/fixtures/images/jpeg_progressive.jpg \
	tests/fixtures/images/jpeg_progressive.rgb \
	tests/fixtures/images/jpeg_rgb.jpg \
	tests/fixtures/images/jpeg_rgb.rgb \
	tests/fixtures/images/normalize_eval.f32 \
	tests/fixtures/images/normalize_train.f32 \
	tests/fixtures/images/png_gray.png \
	tests/fixtures/images/png_gray.rgb \
	tests/fixtures/images/png_gray1.png \
	tests/fixtures/images/png_gray1.rgb \
	tests/fixtures/images/png_gray16.png \
	tests/fixtures/images/png_gray16.rgb \
	tests/fixtures/images/png_gray2.png \
	tests/fixtures/images/png_gray2.rgb \
	tests/fixtures/images/png_gray4_trns.png \
	tests/fixtures/images/png_gray4_trns.rgb \
	tests/fixtures/images/png_graya.png \
	tests/fixtures/images/png_graya.rgb \
	tests/fixtures/images/png_graya16.png \
	tests/fixtures/images/png_graya16.rgb \
	tests/fixtures/images/png_interlaced.png \
	tests/fixtures/images/png_interlaced.rgb \
	tests/fixtures/images/png_palette.png \
	tests/fixtures/images/png_palette.rgb \
	tests/fixtures/images/png_palette1.png \
	tests/fixtures/images/png_palette1.rgb \
	tests/fixtures/images/png_palette4_trns.png \
	tests/fixtures/images/png_palette4_trns.rgb \
	tests/fixtures/images/png_rgb.png \
	tests/fixtures/images/png_rgb.rgb \
	tests/fixtures/images/png_rgb16.png \
	tests/fixtures/images/png_rgb16.rgb \
	tests/fixtures/images/png_rgb_trns.png \
	tests/fixtures/images/png_rgb_trns.rgb \
	tests/fixtures/images/png_rgba.png \
	tests/fixtures/images/png_rgba.rgb \
	tests/fixtures/images/png_rgba16.png \
	tests/fixtures/images/png_rgba16.rgb \
	tests/fixtures/images/resize_100x60_s2_to_24x24.rgb \
	tests/fixtures/images/resize_100x60_s2_to_3x2.rgb \
	tests/fixtures/images/resize_1x1_s4_to_5x3.rgb \
	tests/fixtures/images/resize_37x23_s1_to_16x16.rgb \
	tests/fixtures/images/resize_37x23_s1_to_16x23.rgb \
	tests/fixtures/images/resize_37x23_s1_to_37x11.rgb \
	tests/fixtures/images/resize_37x23_s1_to_50x11.rgb \
	tests/fixtures/images/resize_9x9_s3_to_20x20.rgb \
	tests/fixtures/images/sampler_orders.txt \
	tests/fixtures/images/unsupported.bmp
EXTRA_DIST += tests/fixtures/images/make_fixtures.py $(IMAGE_FIXTURES)

IMAGE_TEST_CPPFLAGS = $(AM_CPPFLAGS) \
	-DIMAGE_FIXTURES='"$(abs_top_srcdir)/tests/fixtures/images"'

check_PROGRAMS += tests/test_image tests/test_augment tests/test_loader
TESTS += tests/test_image tests/test_augment tests/test_loader

# Decoding: every JPEG/PNG flavour against Pillow, and broken files.
tests_test_image_SOURCES = tests/test_image.c
tests_test_image_CPPFLAGS = $(IMAGE_TEST_CPPFLAGS)
tests_test_image_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_image_LDADD = libpactcl.la $(CHECK_LIBS)

# Resampling, transforms, normalisation and the sampler against Pillow/numpy.
tests_test_augment_SOURCES = tests/test_augment.c
tests_test_augment_CPPFLAGS = $(IMAGE_TEST_CPPFLAGS)
tests_test_augment_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_augment_LDADD = libpactcl.la $(CHECK_LIBS) -lm

# The folder scan and the threaded loader over a temporary dataset.
tests_test_loader_SOURCES = tests/test_loader.c
tests_test_loader_CPPFLAGS = $(IMAGE_TEST_CPPFLAGS)
tests_test_loader_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(PTHREAD_CFLAGS)
tests_test_loader_LDADD = libpactcl.la $(CHECK_LIBS) $(PTHREAD_LIBS)
