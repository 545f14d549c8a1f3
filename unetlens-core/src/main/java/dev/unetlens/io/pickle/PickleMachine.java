package dev.unetlens.io.pickle;

import dev.unetlens.Messages;
import dev.unetlens.io.pickle.Py.Bytes;
import dev.unetlens.io.pickle.Py.Global;
import dev.unetlens.io.pickle.Py.None;
import dev.unetlens.io.pickle.Py.PyDict;
import dev.unetlens.io.pickle.Py.PyList;
import dev.unetlens.io.pickle.Py.PySet;
import dev.unetlens.io.pickle.Py.Tuple;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle-opcode interpreter that knows only what a PyTorch state dict needs (the opcode table of CPython's
 * {@code pickletools}, protocols 0 to 5). It builds inert values ({@link Py}); the only callables are the whitelisted
 * globals of {@link TorchGlobals}, which build tensors as views of storages and dicts, and never run code. Opcodes
 * that create arbitrary objects (INST, OBJ, NEWOBJ, NEWOBJ_EX), the extension registry (EXT1/2/4) and out-of-band
 * buffers are refused, as is every global not on the whitelist: each refusal is one line naming the opcode or global
 * and its byte offset.
 *
 * <p>Bounded: the stack and the memo hold at most {@value #MAX_STACK} and {@value #MAX_MEMO} entries, MARKs nest at
 * most {@value #MAX_MARKS} deep, decimal and binary integers have at most {@value #MAX_INT_DIGITS} digits or bytes.
 * Each opcode costs time linear in its own argument and items, so a pickle of n bytes runs in O(n); nothing here
 * recurses over values, so deep nesting cannot overflow the Java stack. Memo indices are keys of a hash map, so a
 * huge index costs nothing. A pickle inside a pickle is never unpickled (bytes stay bytes).
 */
final class PickleMachine {
    static final int MAX_STACK = 1 << 22;
    static final int MAX_MEMO = 1 << 22;
    static final int MAX_MARKS = 10_000;
    static final int MAX_INT_DIGITS = 4300;   // CPython's default int_max_str_digits

    /** Resolves persistent ids: storages in torch files. */
    @FunctionalInterface
    interface PersistentLoader {
        Object load(Object pid, String at);
    }

    private final MemorySegment bytes;
    private final long origin;
    private final long end;
    private final String where;
    private final PersistentLoader persistent;
    private final List<Object> stack = new ArrayList<>();
    private int[] marks = new int[16];
    private int markDepth;
    private final Map<Long, Object> memo = new HashMap<>();
    private long pos;
    private long opStart;
    private char op;

    /**
     * @param bytes      holds the pickle in {@code [start, end)}
     * @param origin     where offsets in messages count from (the start of the entry or file)
     * @param where      what to call the pickle in messages ({@code m.ckpt: archive/data.pkl})
     * @param persistent resolves BINPERSID / PERSID ids
     */
    PickleMachine(MemorySegment bytes, long start, long end, long origin, String where, PersistentLoader persistent) {
        this.bytes = bytes;
        this.pos = start;
        this.end = end;
        this.origin = origin;
        this.where = where;
        this.persistent = persistent;
    }

    /** Where the last run stopped: one past its STOP opcode. */
    long position() {
        return pos;
    }

    /** Runs the pickle up to its STOP and returns the value it holds. */
    Object run() {
        while (true) {
            if (pos >= end) {
                throw fail("the pickle ends at byte " + (pos - origin) + " without a STOP opcode (truncated?)");
            }
            opStart = pos;
            op = (char) (u8() & 0xff);
            if (op == '.') {
                return pop();
            }
            step();
        }
    }

    private void step() {
        switch (op) {
            case 0x80 -> protocol();
            case 0x95 -> frame();
            case '(' -> mark();
            case ')' -> push(new Tuple(List.of()));
            case ']' -> push(new PyList());
            case '}' -> push(new PyDict());
            case 0x8f -> push(new PySet());
            case 'N' -> push(None.NONE);
            case 0x88 -> push(Boolean.TRUE);
            case 0x89 -> push(Boolean.FALSE);
            case 'J' -> push((long) i32());
            case 'K' -> push((long) (u8() & 0xff));
            case 'M' -> push((long) u16());
            case 0x8a -> push(longBytes(u8() & 0xff));
            case 0x8b -> push(longBytes(length(i32())));
            case 'I' -> push(decimalInt(line()));
            case 'L' -> push(decimalLong(line()));
            case 'G' -> push(Double.longBitsToDouble(bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), take(8))));
            case 'F' -> push(decimalFloat(line()));
            case 'X' -> push(utf8(length(u32())));
            case 0x8c -> push(utf8(u8() & 0xff));
            case 0x8d -> push(utf8(length(i64())));
            case 'V' -> push(rawUnicodeEscape(line()));
            case 'T' -> push(utf8(length(i32())));   // Python 2 str: torch.load decodes it as UTF-8
            case 'U' -> push(utf8(u8() & 0xff));
            case 'S' -> push(quotedString(line()));
            case 'B' -> push(new Bytes(raw(length(u32()))));
            case 'C' -> push(new Bytes(raw(u8() & 0xff)));
            case 0x8e, 0x96 -> push(new Bytes(raw(length(i64()))));
            case 0x85, 0x86, 0x87 -> tupleN(op - 0x84);
            case 't' -> push(new Tuple(popMark()));
            case 'l' -> {
                PyList list = new PyList();
                list.addAll(popMark());
                push(list);
            }
            case 'd' -> dictFromMark();
            case 'a' -> append();
            case 'e' -> appends();
            case 's' -> setItem();
            case 'u' -> setItems();
            case 0x90 -> addItems();
            case 0x91 -> frozenSet();
            case '0' -> pop();
            case '1' -> popMark();
            case '2' -> push(peek());
            case 'p' -> put(decimalIndex(line()));
            case 'q' -> put(u8() & 0xff);
            case 'r' -> put(u32());
            case 0x94 -> put(memo.size());
            case 'g' -> get(decimalIndex(line()));
            case 'h' -> get(u8() & 0xff);
            case 'j' -> get(u32());
            case 'c' -> global(line(), line());
            case 0x93 -> stackGlobal();
            case 'R' -> reduce();
            case 'b' -> build();
            case 'Q' -> push(persistent.load(pop(), at()));
            case 'P' -> push(persistent.load(line(), at()));
            case 'i', 'o', 0x81, 0x92 -> throw fail(name() + " " + at() + " creates an object of a class; a PyTorch state"
                    + " dict never needs it, and unetlens never instantiates classes from a file");
            case 0x82, 0x83, 0x84 -> throw fail(name() + " " + at() + " looks up the extension registry; a PyTorch state"
                    + " dict never needs it");
            case 0x97, 0x98 -> throw fail(name() + " " + at() + " refers to an out-of-band buffer; a PyTorch state dict"
                    + " never needs it");
            default -> throw fail("byte 0x" + Integer.toHexString(op) + " " + at() + " is not a pickle opcode;"
                    + " the file is damaged or not a PyTorch checkpoint");
        }
    }

    // ---- opcodes ----

    private void protocol() {
        int p = u8() & 0xff;
        if (p > 5) {
            throw fail(name() + " " + p + " " + at() + ": pickle protocols go up to 5");
        }
    }

    private void frame() {
        long n = i64();
        if (n < 0 || n > end - pos) {
            throw fail(name() + " " + at() + " announces " + Long.toUnsignedString(n) + " bytes, more than the "
                    + (end - pos) + " left (truncated?)");
        }
    }

    private void mark() {
        if (markDepth == MAX_MARKS) {
            throw fail(name() + " " + at() + " nests more than " + MAX_MARKS + " levels deep; a state dict nests a few");
        }
        if (markDepth == marks.length) {
            marks = Arrays.copyOf(marks, marks.length * 2);
        }
        marks[markDepth++] = stack.size();
    }

    private List<Object> popMark() {
        if (markDepth == 0) {
            throw fail(name() + " " + at() + " needs a MARK on the stack, and there is none");
        }
        int from = marks[--markDepth];
        List<Object> top = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private void tupleN(int n) {
        if (stack.size() - floor() < n) {
            throw fail(name() + " " + at() + " needs " + n + " items on the stack");
        }
        List<Object> top = stack.subList(stack.size() - n, stack.size());
        Tuple t = new Tuple(top);
        top.clear();
        push(t);
    }

    private void dictFromMark() {
        List<Object> items = popMark();
        PyDict d = new PyDict();
        putPairs(d, items);
        push(d);
    }

    private void append() {
        Object v = pop();
        list(peek()).add(v);
    }

    private void appends() {
        List<Object> items = popMark();
        list(peek()).addAll(items);
    }

    private void setItem() {
        Object v = pop();
        Object k = pop();
        putPairs(dict(peek()), List.of(k, v));
    }

    private void setItems() {
        List<Object> items = popMark();
        putPairs(dict(peek()), items);
    }

    private void putPairs(PyDict d, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw fail(name() + " " + at() + " has an odd number of items for key-value pairs");
        }
        for (int i = 0; i < items.size(); i += 2) {
            d.items.put(key(items.get(i)), items.get(i + 1));
        }
    }

    private void addItems() {
        List<Object> items = popMark();
        if (!(peek() instanceof PySet s)) {
            throw fail(name() + " " + at() + " adds to a " + Py.typeName(peek()) + ", not a set");
        }
        items.forEach(i -> s.items.add(key(i)));
    }

    private void frozenSet() {
        PySet s = new PySet();
        popMark().forEach(i -> s.items.add(key(i)));
        push(s);
    }

    /** A value used as a dict key or set item, which must be hashable (see {@link Py#hashable}). */
    private Object key(Object k) {
        if (!Py.hashable(k)) {
            throw fail(name() + " " + at() + " uses a " + Py.typeName(k) + " as a dict key or set item; a state dict"
                    + " keys by strings and numbers");
        }
        return k;
    }

    private void put(long index) {
        if (stack.size() == floor()) {
            throw fail(name() + " " + at() + " memoizes from an empty stack");
        }
        if (memo.size() == MAX_MEMO && !memo.containsKey(index)) {
            throw fail(name() + " " + at() + " would hold more than " + MAX_MEMO + " memo entries");
        }
        memo.put(index, peek());
    }

    private void get(long index) {
        Object v = memo.get(index);
        if (v == null) {
            throw fail(name() + " " + at() + " reads memo entry " + index + ", which was never stored");
        }
        push(v);
    }

    private void global(String module, String name) {
        push(TorchGlobals.resolve(module, name, this::fail, at()));
    }

    private void stackGlobal() {
        Object name = pop();
        Object module = pop();
        if (!(module instanceof String m) || !(name instanceof String n)) {
            throw fail(name() + " " + at() + " needs two strings, found " + Py.typeName(module) + " and "
                    + Py.typeName(name));
        }
        global(m, n);
    }

    private void reduce() {
        Object args = pop();
        Object callable = pop();
        if (!(args instanceof Tuple t)) {
            throw fail(name() + " " + at() + " calls with a " + Py.typeName(args) + " instead of an argument tuple");
        }
        if (!(callable instanceof Global g)) {
            throw fail(name() + " " + at() + " calls a " + Py.typeName(callable) + ", which is not callable");
        }
        push(TorchGlobals.call(g, t, this::fail, at()));
    }

    private void build() {
        Object state = pop();
        TorchGlobals.build(peek(), state, this::fail, at());
    }

    // ---- stack ----

    private int floor() {
        return markDepth == 0 ? 0 : marks[markDepth - 1];
    }

    private void push(Object v) {
        if (stack.size() == MAX_STACK) {
            throw fail(name() + " " + at() + " would hold more than " + MAX_STACK + " values on the stack");
        }
        stack.add(v);
    }

    private Object pop() {
        if (stack.size() == floor()) {
            throw fail(name() + " " + at() + " finds no value on the stack" + (markDepth > 0 ? " above the MARK" : ""));
        }
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.size() == floor()) {
            throw fail(name() + " " + at() + " finds no value on the stack" + (markDepth > 0 ? " above the MARK" : ""));
        }
        return stack.getLast();
    }

    private PyList list(Object v) {
        if (v instanceof PyList l) {
            return l;
        }
        throw fail(name() + " " + at() + " appends to a " + Py.typeName(v) + ", not a list");
    }

    private PyDict dict(Object v) {
        if (v instanceof PyDict d) {
            return d;
        }
        throw fail(name() + " " + at() + " sets an item of a " + Py.typeName(v) + ", not a dict");
    }

    // ---- arguments ----

    private long take(long n) {
        if (n > end - pos) {
            throw fail(name() + " " + at() + " runs past the end of the pickle (truncated?)");
        }
        long at = pos;
        pos += n;
        return at;
    }

    private byte u8() {
        return bytes.get(ValueLayout.JAVA_BYTE, take(1));
    }

    private int u16() {
        return bytes.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(2)) & 0xffff;
    }

    private int i32() {
        return bytes.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(4));
    }

    private long u32() {
        return i32() & 0xffffffffL;
    }

    private long i64() {
        return bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), take(8));
    }

    /** A length argument, which must be non-negative and fit in the rest of the pickle. */
    private long length(long n) {
        if (n < 0 || n > end - pos) {
            throw fail(name() + " " + at() + " announces " + (n < 0 ? Long.toUnsignedString(n) : n)
                    + " bytes, more than the " + (end - pos) + " left (truncated?)");
        }
        return n;
    }

    private byte[] raw(long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw fail(name() + " " + at() + " holds " + n + " bytes, more than unetlens reads into one value");
        }
        long at = take(n);
        return bytes.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE);
    }

    private String utf8(long n) {
        byte[] b = raw(n);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail(name() + " " + at() + " holds text that is not valid UTF-8");
        }
    }

    /** A newline-terminated argument (protocol 0), as ISO-8859-1 text without the newline. */
    private String line() {
        long start = pos;
        long max = Math.min(end, start + 65_536);
        for (long i = start; i < max; i++) {
            if (bytes.get(ValueLayout.JAVA_BYTE, i) == '\n') {
                pos = i + 1;
                return new String(bytes.asSlice(start, i - start).toArray(ValueLayout.JAVA_BYTE),
                        StandardCharsets.ISO_8859_1);
            }
        }
        throw fail(name() + " " + at() + " has no newline-terminated argument"
                + (max == end ? " before the end of the pickle (truncated?)" : " within 65536 bytes"));
    }

    private Object longBytes(long n) {
        if (n > MAX_INT_DIGITS) {
            throw fail(name() + " " + at() + " holds a " + n + "-byte integer; state dicts hold at most 8-byte ones");
        }
        byte[] le = raw(n);
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return narrow(new BigInteger(be));
    }

    private static Object narrow(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object decimalInt(String s) {
        if (s.equals("01")) {
            return Boolean.TRUE;
        }
        if (s.equals("00")) {
            return Boolean.FALSE;
        }
        return decimalLong(s);
    }

    private Object decimalLong(String s) {
        String digits = s.endsWith("L") ? s.substring(0, s.length() - 1) : s;
        if (digits.length() > MAX_INT_DIGITS || !digits.matches("[-+]?[0-9]+")) {
            throw fail(name() + " " + at() + " holds " + Messages.quote(s) + ", not a decimal integer of at most "
                    + MAX_INT_DIGITS + " digits");
        }
        return narrow(new BigInteger(digits));
    }

    private long decimalIndex(String s) {
        Object v = decimalLong(s);
        if (!(v instanceof Long l) || l < 0) {
            throw fail(name() + " " + at() + " names memo entry " + Messages.quote(s) + ", not a non-negative index");
        }
        return l;
    }

    private double decimalFloat(String s) {
        String t = s.strip();
        if (t.length() > 400 || !t.matches("[-+]?(inf|nan|[0-9]*\\.?[0-9]*([eE][-+]?[0-9]+)?)") || t.matches("[-+]?\\.?")) {
            throw fail(name() + " " + at() + " holds " + Messages.quote(s) + ", not a float");
        }
        return switch (t.replaceFirst("^[-+]", "")) {
            case "inf" -> t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            case "nan" -> Double.NaN;
            default -> Double.parseDouble(t);
        };
    }

    /** Protocol 0 UNICODE: raw-unicode-escape (Latin-1 text with {@code \\uXXXX} and {@code \\UXXXXXXXX} escapes). */
    private String rawUnicodeEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
                int digits = s.charAt(i + 1) == 'u' ? 4 : 8;
                if (i + 2 + digits > s.length() || !s.substring(i + 2, i + 2 + digits).matches("[0-9a-fA-F]+")) {
                    throw fail(name() + " " + at() + " holds a broken \\u escape");
                }
                long cp = Long.parseLong(s.substring(i + 2, i + 2 + digits), 16);
                if (cp > Character.MAX_CODE_POINT) {
                    throw fail(name() + " " + at() + " holds a \\U escape past the last code point");
                }
                b.appendCodePoint((int) cp);
                i += 1 + digits;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** Protocol 0 STRING: a quoted Python 2 string literal with backslash escapes, decoded as UTF-8 by torch.load. */
    private String quotedString(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw fail(name() + " " + at() + " holds an unquoted string");
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        String body = s.substring(1, s.length() - 1);
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\') {
                out.write(c);
                continue;
            }
            if (++i == body.length()) {
                throw fail(name() + " " + at() + " holds a string ending in a lone backslash");
            }
            char e = body.charAt(i);
            switch (e) {
                case 'n' -> out.write('\n');
                case 't' -> out.write('\t');
                case 'r' -> out.write('\r');
                case '0' -> out.write(0);
                case '\\', '\'', '"' -> out.write(e);
                case 'x' -> {
                    if (i + 3 > body.length() || !body.substring(i + 1, i + 3).matches("[0-9a-fA-F]{2}")) {
                        throw fail(name() + " " + at() + " holds a broken \\x escape");
                    }
                    out.write(Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> throw fail(name() + " " + at() + " holds the escape \\" + Messages.value(e)
                        + ", which unetlens does not read");
            }
        }
        byte[] b = out.toByteArray();
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException ex) {
            throw fail(name() + " " + at() + " holds text that is not valid UTF-8");
        }
    }

    // ---- messages ----

    /** {@code at byte N}, where the current opcode starts. */
    private String at() {
        return "at byte " + (opStart - origin);
    }

    /** The current opcode's name as pickletools gives it. */
    private String name() {
        return Opcodes.name(op);
    }

    private PickleException fail(String detail) {
        return new PickleException(where + ": " + detail);
    }
}
