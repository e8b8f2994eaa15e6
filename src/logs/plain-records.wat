;; Builds pino records for lines of plain ASCII, the common case of service output, at
;; native speed: in JavaScript the same loop costs ~4 ns a byte on a small machine, about
;; half the supervisor's cost per log line. Assembled into plain-records.wasm by
;; `npm run build:wasm`; plain-records.ts lays out the memory and calls it.
(module
  (memory (export "memory") 1)

  ;; format(in, end, lines, ids, table, out) -> the end of what it wrote, or -1.
  ;; [in, end) holds `lines` lines, each ending in "\n". For line k it writes the prefix
  ;; whose offset and length (two i32) are at table + 8 * ids[k], the line's bytes, then
  ;; "\"}\n". It gives -1 when a byte is not printable ASCII or is '"' or '\\' (JSON
  ;; would escape it: the caller takes its slower path), or when the count is off.
  (func (export "format")
    (param $in i32) (param $end i32) (param $lines i32) (param $ids i32) (param $table i32) (param $out i32)
    (result i32)
    (local $k i32) (local $entry i32) (local $len i32) (local $b i32) (local $x i64) (local $t i64)
    (block $done
      (loop $line
        (br_if $done (i32.ge_u (local.get $k) (local.get $lines)))
        (local.set $entry
          (i32.add (local.get $table)
            (i32.shl (i32.load8_u (i32.add (local.get $ids) (local.get $k))) (i32.const 3))))
        (local.set $len (i32.load offset=4 (local.get $entry)))
        (memory.copy (local.get $out) (i32.load (local.get $entry)) (local.get $len))
        (local.set $out (i32.add (local.get $out) (local.get $len)))
        ;; Eight bytes at a time while a word holds no newline and nothing to check closer
        ;; (a byte under 0x20, '"', '\\', 0x7f or over): then byte by byte to the newline.
        ;; "Has a zero byte" of x ^ c is (t - 0x01..) & ~t & 0x80.. with t = x ^ c (exact as
        ;; a yes/no answer; a false alarm would only send the word to the byte loop).
        (block $bytes
          (loop $word
            (br_if $bytes (i32.gt_u (i32.add (local.get $in) (i32.const 8)) (local.get $end)))
            (local.set $x (i64.load (local.get $in)))
            (br_if $bytes (i64.ne (i64.const 0) (i64.or
              (i64.or
                (i64.and (i64.and (i64.sub (local.tee $t (i64.xor (local.get $x) (i64.const 0x0a0a0a0a0a0a0a0a))) (i64.const 0x0101010101010101)) (i64.xor (local.get $t) (i64.const -1))) (i64.const 0x8080808080808080))
                (i64.and  ;; a byte under 0x20
                  (i64.and (i64.sub (local.get $x) (i64.const 0x2020202020202020)) (i64.xor (local.get $x) (i64.const -1)))
                  (i64.const 0x8080808080808080)))
              (i64.or
                (i64.or
                  (i64.and (i64.and (i64.sub (local.tee $t (i64.xor (local.get $x) (i64.const 0x2222222222222222))) (i64.const 0x0101010101010101)) (i64.xor (local.get $t) (i64.const -1))) (i64.const 0x8080808080808080))
                  (i64.and (i64.and (i64.sub (local.tee $t (i64.xor (local.get $x) (i64.const 0x5c5c5c5c5c5c5c5c))) (i64.const 0x0101010101010101)) (i64.xor (local.get $t) (i64.const -1))) (i64.const 0x8080808080808080)))
                (i64.or
                  (i64.and (i64.and (i64.sub (local.tee $t (i64.xor (local.get $x) (i64.const 0x7f7f7f7f7f7f7f7f))) (i64.const 0x0101010101010101)) (i64.xor (local.get $t) (i64.const -1))) (i64.const 0x8080808080808080))
                  (i64.and (local.get $x) (i64.const 0x8080808080808080)))))))
            (i64.store (local.get $out) (local.get $x))
            (local.set $in (i32.add (local.get $in) (i32.const 8)))
            (local.set $out (i32.add (local.get $out) (i32.const 8)))
            (br $word)))
        (block $eol
          (loop $byte
            (if (i32.ge_u (local.get $in) (local.get $end)) (then (return (i32.const -1))))
            (local.set $b (i32.load8_u (local.get $in)))
            (local.set $in (i32.add (local.get $in) (i32.const 1)))
            (br_if $eol (i32.eq (local.get $b) (i32.const 0x0a)))
            ;; 0x20..0x7e, and neither '"' nor '\\'
            (if (i32.or
                  (i32.ge_u (i32.sub (local.get $b) (i32.const 0x20)) (i32.const 0x5f))
                  (i32.or (i32.eq (local.get $b) (i32.const 0x22)) (i32.eq (local.get $b) (i32.const 0x5c))))
              (then (return (i32.const -1))))
            (i32.store8 (local.get $out) (local.get $b))
            (local.set $out (i32.add (local.get $out) (i32.const 1)))
            (br $byte)))
        (i32.store8 (local.get $out) (i32.const 0x22))
        (i32.store8 offset=1 (local.get $out) (i32.const 0x7d))
        (i32.store8 offset=2 (local.get $out) (i32.const 0x0a))
        (local.set $out (i32.add (local.get $out) (i32.const 3)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $line)))
    (if (result i32) (i32.eq (local.get $in) (local.get $end))
      (then (local.get $out))
      (else (i32.const -1))))
)
