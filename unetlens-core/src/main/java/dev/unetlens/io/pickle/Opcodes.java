package dev.unetlens.io.pickle;

/** The names of pickle opcodes, as CPython's {@code pickletools} gives them, for messages. */
final class Opcodes {
    private Opcodes() {
    }

    /** {@code GLOBAL 'c'}, {@code NEWOBJ 0x81}, or {@code byte 0x..} for a byte that is no opcode. */
    static String name(char op) {
        String n = switch (op) {
            case 0x28 -> "MARK";
            case 0x29 -> "EMPTY_TUPLE";
            case 0x2e -> "STOP";
            case 0x30 -> "POP";
            case 0x31 -> "POP_MARK";
            case 0x32 -> "DUP";
            case 0x42 -> "BINBYTES";
            case 0x43 -> "SHORT_BINBYTES";
            case 0x46 -> "FLOAT";
            case 0x47 -> "BINFLOAT";
            case 0x49 -> "INT";
            case 0x4a -> "BININT";
            case 0x4b -> "BININT1";
            case 0x4c -> "LONG";
            case 0x4d -> "BININT2";
            case 0x4e -> "NONE";
            case 0x50 -> "PERSID";
            case 0x51 -> "BINPERSID";
            case 0x52 -> "REDUCE";
            case 0x53 -> "STRING";
            case 0x54 -> "BINSTRING";
            case 0x55 -> "SHORT_BINSTRING";
            case 0x56 -> "UNICODE";
            case 0x58 -> "BINUNICODE";
            case 0x5d -> "EMPTY_LIST";
            case 0x61 -> "APPEND";
            case 0x62 -> "BUILD";
            case 0x63 -> "GLOBAL";
            case 0x64 -> "DICT";
            case 0x65 -> "APPENDS";
            case 0x67 -> "GET";
            case 0x68 -> "BINGET";
            case 0x69 -> "INST";
            case 0x6a -> "LONG_BINGET";
            case 0x6c -> "LIST";
            case 0x6f -> "OBJ";
            case 0x70 -> "PUT";
            case 0x71 -> "BINPUT";
            case 0x72 -> "LONG_BINPUT";
            case 0x73 -> "SETITEM";
            case 0x74 -> "TUPLE";
            case 0x75 -> "SETITEMS";
            case 0x7d -> "EMPTY_DICT";
            case 0x80 -> "PROTO";
            case 0x81 -> "NEWOBJ";
            case 0x82 -> "EXT1";
            case 0x83 -> "EXT2";
            case 0x84 -> "EXT4";
            case 0x85 -> "TUPLE1";
            case 0x86 -> "TUPLE2";
            case 0x87 -> "TUPLE3";
            case 0x88 -> "NEWTRUE";
            case 0x89 -> "NEWFALSE";
            case 0x8a -> "LONG1";
            case 0x8b -> "LONG4";
            case 0x8c -> "SHORT_BINUNICODE";
            case 0x8d -> "BINUNICODE8";
            case 0x8e -> "BINBYTES8";
            case 0x8f -> "EMPTY_SET";
            case 0x90 -> "ADDITEMS";
            case 0x91 -> "FROZENSET";
            case 0x92 -> "NEWOBJ_EX";
            case 0x93 -> "STACK_GLOBAL";
            case 0x94 -> "MEMOIZE";
            case 0x95 -> "FRAME";
            case 0x96 -> "BYTEARRAY8";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            default -> null;
        };
        if (n == null) {
            return "byte 0x" + Integer.toHexString(op);
        }
        return op >= 0x20 && op < 0x7f ? n + " '" + op + "'" : n + " 0x" + Integer.toHexString(op);
    }
}
