/*
 * pickle_ops.h: the pickle opcodes that state dict files use (CPython
 * Lib/pickle.py), shared by the reader and the writer.  Only these exist here on
 * purpose: the reader refuses every other opcode.
 */
#ifndef PACTCL_PICKLE_OPS_H
#define PACTCL_PICKLE_OPS_H

enum pactcl_pickle_op {
    PK_MARK = '(',
    PK_STOP = '.',
    PK_BININT = 'J',
    PK_BININT1 = 'K',
    PK_BININT2 = 'M',
    PK_NONE = 'N',
    PK_REDUCE = 'R',
    PK_BINSTRING = 'T',
    PK_SHORT_BINSTRING = 'U',
    PK_BINUNICODE = 'X',
    PK_BUILD = 'b',
    PK_GLOBAL = 'c',
    PK_BINGET = 'h',
    PK_LONG_BINGET = 'j',
    PK_BINPUT = 'q',
    PK_LONG_BINPUT = 'r',
    PK_SETITEM = 's',
    PK_TUPLE = 't',
    PK_EMPTY_TUPLE = ')',
    PK_SETITEMS = 'u',
    PK_BINFLOAT = 'G',
    PK_EMPTY_DICT = '}',
    /* protocol 2 */
    PK_PROTO = 0x80,
    PK_TUPLE1 = 0x85,
    PK_TUPLE2 = 0x86,
    PK_TUPLE3 = 0x87,
    PK_NEWTRUE = 0x88,
    PK_NEWFALSE = 0x89,
    PK_LONG1 = 0x8a,
    /* protocol 3 */
    PK_BINBYTES = 'B',
    PK_SHORT_BINBYTES = 'C',
    /* protocol 4 */
    PK_SHORT_BINUNICODE = 0x8c,
    PK_BINUNICODE8 = 0x8d,
    PK_BINBYTES8 = 0x8e,
    PK_STACK_GLOBAL = 0x93,
    PK_MEMOIZE = 0x94,
    PK_FRAME = 0x95
};

#endif /* PACTCL_PICKLE_OPS_H */
