package dev.unetlens.io.pickle;

import dev.unetlens.io.DType;
import dev.unetlens.io.pickle.Py.PyDict;
import dev.unetlens.io.pickle.Py.PyList;
import dev.unetlens.io.pickle.Py.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The restricted interpreter on hand-written opcode streams: the protocol 0–4 forms of plain data, the memo, what it
 * refuses (opcodes that make objects, globals off the whitelist, tensors outside their storage, nesting past its
 * bound) and that it never fails in another way on a truncated stream.
 */
class PickleMachineTest {
    private static final StorageRef STORAGE = new StorageRef("0", DType.F32, 12, 0);

    private static Object run(byte[] pickle) {
        return new PickleMachine(MemorySegment.ofArray(pickle), 0, pickle.length, 0, "t.pkl",
                (pid, at) -> STORAGE).run();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void protocol0And1DataParse() {
        Object d = run(ascii("(dp0\nVa\np1\nI1\nsS'b'\np2\n(lp3\nL12345678901234567890L\naF1.5\naI01\nas."));
        assertThat(d).isInstanceOf(PyDict.class);
        Map<Object, Object> items = ((PyDict) d).items;
        assertThat(items.get("a")).isEqualTo(1L);
        assertThat(List.copyOf((PyList) items.get("b"))).containsExactly(new BigInteger("12345678901234567890"), 1.5, true);
    }

    @Test
    void memoHoldsAnyIndexWithoutAllocatingIt() {
        TorchZipWriter.Ops p = new TorchZipWriter.Ops().op(0x80).op(2).text("x").op('r')
                .raw(new byte[] {-1, -1, -1, -1}).op('0').op('j').raw(new byte[] {-1, -1, -1, -1}).op('.');
        assertThat(run(p.bytes())).isEqualTo("x");
        byte[] missing = new TorchZipWriter.Ops().op(0x80).op(2).op('h').op(7).op('.').bytes();
        assertThatThrownBy(() -> run(missing)).isInstanceOf(PickleException.class)
                .hasMessage("t.pkl: BINGET 'h' at byte 2 reads memo entry 7, which was never stored");
    }

    @Test
    void protocol4FramesStackGlobalsAndMemoize() {
        TorchZipWriter.Ops p = new TorchZipWriter.Ops().op(0x80).op(4).op(0x95).raw(new byte[] {30, 0, 0, 0, 0, 0, 0, 0})
                .op(0x8c).op(11).raw(ascii("collections")).op(0x94).op(0x8c).op(11).raw(ascii("OrderedDict")).op(0x94)
                .op(0x93).op(0x94).op(')').op('R').op(0x94).op('.');
        assertThat(run(p.bytes())).isInstanceOf(PyDict.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"os\nsystem", "builtins\neval", "__builtin__\ngetattr", "torch\nload", "numpy\nload",
        "torch._utils\n_rebuild_device_tensor_from_numpy", "collections\ndefaultdict"})
    void globalsOffTheWhitelistAreRefusedWhereNamed(String global) {
        byte[] pickle = new TorchZipWriter.Ops().op(0x80).op(2).op('c').raw(ascii(global + "\n")).op('.').bytes();
        assertThatThrownBy(() -> run(pickle)).isInstanceOf(PickleException.class)
                .hasMessage("t.pkl: global '" + global.replace('\n', '.') + "' at byte 2 is not one a PyTorch state dict"
                        + " uses; unetlens runs no pickle code and refuses the file");
        byte[] stack = new TorchZipWriter.Ops().op(0x80).op(4).text(global.split("\n")[0]).text(global.split("\n")[1])
                .op(0x93).op('.').bytes();
        assertThatThrownBy(() -> run(stack)).hasMessageContaining("global '" + global.replace('\n', '.') + "' at byte");
    }

    @Test
    void opcodesThatMakeObjectsAreRefused() {
        assertThatThrownBy(() -> run(ascii("(i__main__\nX\n."))).hasMessage("t.pkl: INST 'i' at byte 1 creates an object"
                + " of a class; a PyTorch state dict never needs it, and unetlens never instantiates classes from a file");
        assertThatThrownBy(() -> run(new byte[] {(byte) 0x80, 2, ')', ')', (byte) 0x81, '.'}))
                .hasMessageStartingWith("t.pkl: NEWOBJ 0x81 at byte 4 creates an object");
        assertThatThrownBy(() -> run(new byte[] {(byte) 0x80, 2, (byte) 0x82, 1, '.'}))
                .hasMessageStartingWith("t.pkl: EXT1 0x82 at byte 2 looks up the extension registry");
        assertThatThrownBy(() -> run(new byte[] {(byte) 0x80, 5, (byte) 0x97, '.'}))
                .hasMessageStartingWith("t.pkl: NEXT_BUFFER 0x97 at byte 2 refers to an out-of-band buffer");
        assertThatThrownBy(() -> run(new byte[] {(byte) 0x80, 2, (byte) 0xff, '.'}))
                .hasMessage("t.pkl: byte 0xff at byte 2 is not a pickle opcode; the file is damaged or not a PyTorch"
                        + " checkpoint");
    }

    @Test
    void marksNestBoundedlyAndValuesNestWithoutRecursion() {
        byte[] marks = new byte[PickleMachine.MAX_MARKS + 3];
        java.util.Arrays.fill(marks, (byte) '(');
        assertThatThrownBy(() -> run(marks)).hasMessageContaining("MARK '(' at byte " + PickleMachine.MAX_MARKS
                + " nests more than 10000 levels deep");
        int depth = 1_000_000;
        byte[] lists = new byte[2 * depth + 1];
        java.util.Arrays.fill(lists, 0, depth, (byte) ']');
        java.util.Arrays.fill(lists, depth, 2 * depth - 1, (byte) 'a');
        lists[2 * depth - 1] = '.';
        assertThat(run(java.util.Arrays.copyOf(lists, 2 * depth))).isInstanceOf(PyList.class);
    }

    @Test
    void unhashableKeysAreRefused() {
        assertThatThrownBy(() -> run(new byte[] {(byte) 0x80, 2, '}', ']', 'N', 's', '.'}))
                .hasMessage("t.pkl: SETITEM 's' at byte 5 uses a list as a dict key or set item; a state dict keys by"
                        + " strings and numbers");
    }

    @Test
    void tensorsMustLieInsideTheirStorage() {
        assertThat(run(tensor(2, new long[] {2, 5}, new long[] {5, 1}))).isInstanceOf(StoredTensor.class);
        assertThatThrownBy(() -> run(tensor(3, new long[] {2, 5}, new long[] {5, 1})))
                .hasMessageContaining("size [2, 5], stride [5, 1] at offset 3 reach past the storage's 12 elements");
        assertThatThrownBy(() -> run(tensor(0, new long[] {1L << 40, 1L << 40}, new long[] {1L << 40, 1})))
                .hasMessageContaining("overflow 64 bits");
        assertThatThrownBy(() -> run(tensor(0, new long[] {2}, new long[] {1, 1})))
                .hasMessageContaining("must have the same rank");
        assertThat(run(tensor(12, new long[] {0, 3}, new long[] {3, 1}))).isInstanceOf(StoredTensor.class);
    }

    private static byte[] tensor(long offset, long[] shape, long[] stride) {
        return new TorchZipWriter.Ops().op(0x80).op(2).global("torch._utils", "_rebuild_tensor_v2").op('(')
                .op('N').op('Q').integer(offset).ints(shape).ints(stride).op(0x89).op('}').op('t').op('R').op('.').bytes();
    }

    @Test
    void builtinsBuildData() {
        byte[] p = new TorchZipWriter.Ops().op(0x80).op(2).op('(')
                .global("_codecs", "encode").text("a\u00ff").text("latin1").op(0x86).op('R')
                .global("torch", "Size").op('(').integer(2).integer(3).op('t').op(0x85).op('R')
                .global("__builtin__", "set").op(']').integer(1).op('a').op(0x85).op('R')
                .op('t').op('.').bytes();
        Tuple t = (Tuple) run(p);
        assertThat(((Py.Bytes) t.get(0)).value()).containsExactly('a', 0xff);
        assertThat(((Tuple) t.get(1)).items()).containsExactly(2L, 3L);
        assertThat(((Py.PySet) t.get(2)).items).containsExactly(1L);
    }

    /** Every prefix of a real checkpoint's pickle fails as a PickleException, never otherwise. */
    @Test
    void everyTruncationFailsInOneLine() {
        byte[] full = TorchZipWriter.pickle(Map.of("w", new TorchZipWriter.Tensor(DType.F32, new long[] {3},
                new byte[12])), true);
        for (int n = 0; n < full.length; n++) {
            byte[] cut = java.util.Arrays.copyOf(full, n);
            assertThatThrownBy(() -> run(cut)).isInstanceOf(PickleException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").startsWith("t.pkl: "));
        }
        assertThat(run(full)).isInstanceOf(PyDict.class);
    }
}
