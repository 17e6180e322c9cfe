// A QR code encoder (ISO/IEC 18004, Model 2) for the account page's authenticator enrolment:
// byte mode, error correction level M, the smallest version that fits (1 to 40), all eight masks
// scored with the standard penalty rules. Drawn as one SVG path, so no CDN and no canvas.
// Follows the structure of Project Nayuki's public-domain reference algorithm.
"use strict";

const QRCode = (() => {
  // Level M: error-correction codewords per block, and blocks, by version (index 0 unused).
  const ECC_PER_BLOCK = [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];
  const BLOCKS = [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28,
    29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];
  const FORMAT_M = 0; // the two format bits of level M

  const bit = (value, index) => ((value >>> index) & 1) !== 0;

  /// Modules left for data and error correction once the function patterns are drawn.
  function rawModules(version) {
    let result = (16 * version + 128) * version + 64;
    if (version >= 2) {
      const align = Math.floor(version / 7) + 2;
      result -= (25 * align - 10) * align - 55;
      if (version >= 7) result -= 36;
    }
    return result;
  }

  const dataCodewords = (version) => Math.floor(rawModules(version) / 8) - ECC_PER_BLOCK[version] * BLOCKS[version];

  // --- Reed-Solomon over GF(2^8) with the polynomial 0x11D ------------------------------------

  function multiply(x, y) {
    let z = 0;
    for (let i = 7; i >= 0; i--) {
      z = (z << 1) ^ ((z >>> 7) * 0x11d);
      z ^= ((y >>> i) & 1) * x;
    }
    return z;
  }

  function divisor(degree) {
    const result = new Array(degree).fill(0);
    result[degree - 1] = 1;
    let root = 1;
    for (let i = 0; i < degree; i++) {
      for (let j = 0; j < degree; j++) {
        result[j] = multiply(result[j], root);
        if (j + 1 < degree) result[j] ^= result[j + 1];
      }
      root = multiply(root, 0x02);
    }
    return result;
  }

  function remainder(data, generator) {
    const result = generator.map(() => 0);
    for (const byte of data) {
      const factor = byte ^ result.shift();
      result.push(0);
      generator.forEach((coefficient, i) => { result[i] ^= multiply(coefficient, factor); });
    }
    return result;
  }

  // --- Codewords ------------------------------------------------------------------------------

  function utf8(text) {
    return Array.from(new TextEncoder().encode(text));
  }

  /// The data codewords: byte mode header, the bytes, terminator and padding.
  function encodeData(bytes, version) {
    const bits = [];
    const push = (value, length) => { for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
    push(0x4, 4);
    push(bytes.length, version <= 9 ? 8 : 16);
    for (const byte of bytes) push(byte, 8);
    const capacity = dataCodewords(version) * 8;
    push(0, Math.min(4, capacity - bits.length));
    push(0, (8 - (bits.length % 8)) % 8);
    for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) push(pad, 8);
    const codewords = [];
    for (let i = 0; i < bits.length; i += 8) codewords.push(parseInt(bits.slice(i, i + 8).join(""), 2));
    return codewords;
  }

  /// Splits into blocks, appends each block's error correction, and interleaves them.
  function withErrorCorrection(data, version) {
    const blocks = BLOCKS[version];
    const eccLength = ECC_PER_BLOCK[version];
    const total = Math.floor(rawModules(version) / 8);
    const shortBlocks = blocks - (total % blocks);
    const shortLength = Math.floor(total / blocks);
    const generator = divisor(eccLength);
    const split = [];
    for (let i = 0, k = 0; i < blocks; i++) {
      const chunk = data.slice(k, k + shortLength - eccLength + (i < shortBlocks ? 0 : 1));
      k += chunk.length;
      const ecc = remainder(chunk, generator);
      if (i < shortBlocks) chunk.push(0);
      split.push(chunk.concat(ecc));
    }
    const result = [];
    for (let i = 0; i < split[0].length; i++) {
      split.forEach((block, j) => {
        if (i !== shortLength - eccLength || j >= shortBlocks) result.push(block[i]);
      });
    }
    return result;
  }

  // --- The symbol -----------------------------------------------------------------------------

  function alignmentPositions(version, size) {
    if (version === 1) return [];
    const count = Math.floor(version / 7) + 2;
    const step = version === 32 ? 26 : Math.ceil((version * 4 + 4) / (count * 2 - 2)) * 2;
    const result = [6];
    for (let position = size - 7; result.length < count; position -= step) result.splice(1, 0, position);
    return result;
  }

  class Symbol {
    constructor(version) {
      this.version = version;
      this.size = version * 4 + 17;
      this.modules = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
      this.reserved = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
      this.drawFunctionPatterns();
    }

    set(x, y, dark) {
      this.modules[y][x] = dark;
      this.reserved[y][x] = true;
    }

    drawFunctionPatterns() {
      const size = this.size;
      for (let i = 0; i < size; i++) {
        this.set(6, i, i % 2 === 0);
        this.set(i, 6, i % 2 === 0);
      }
      for (const [x, y] of [[3, 3], [size - 4, 3], [3, size - 4]]) {
        for (let dy = -4; dy <= 4; dy++) {
          for (let dx = -4; dx <= 4; dx++) {
            const distance = Math.max(Math.abs(dx), Math.abs(dy));
            if (x + dx >= 0 && x + dx < size && y + dy >= 0 && y + dy < size) this.set(x + dx, y + dy, distance !== 2 && distance !== 4);
          }
        }
      }
      const positions = alignmentPositions(this.version, size);
      const last = positions.length - 1;
      positions.forEach((x, i) => positions.forEach((y, j) => {
        if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return; // the finders' corners
        for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) this.set(x + dx, y + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }));
      this.drawFormat(0); // reserves the format areas; redrawn with the chosen mask
      this.drawVersion();
    }

    drawFormat(mask) {
      const data = (FORMAT_M << 3) | mask;
      let rem = data;
      for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
      const bits = ((data << 10) | rem) ^ 0x5412;
      const size = this.size;
      for (let i = 0; i <= 5; i++) this.set(8, i, bit(bits, i));
      this.set(8, 7, bit(bits, 6));
      this.set(8, 8, bit(bits, 7));
      this.set(7, 8, bit(bits, 8));
      for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(bits, i));
      for (let i = 0; i < 8; i++) this.set(size - 1 - i, 8, bit(bits, i));
      for (let i = 8; i < 15; i++) this.set(8, size - 15 + i, bit(bits, i));
      this.set(8, size - 8, true); // the dark module
    }

    drawVersion() {
      if (this.version < 7) return;
      let rem = this.version;
      for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
      const bits = (this.version << 12) | rem;
      for (let i = 0; i < 18; i++) {
        const a = this.size - 11 + (i % 3);
        const b = Math.floor(i / 3);
        this.set(a, b, bit(bits, i));
        this.set(b, a, bit(bits, i));
      }
    }

    /// Places the codewords in the two-column zigzag, skipping the function patterns.
    drawCodewords(codewords) {
      let i = 0;
      for (let right = this.size - 1; right >= 1; right -= 2) {
        if (right === 6) right = 5; // the vertical timing pattern
        for (let vertical = 0; vertical < this.size; vertical++) {
          for (let j = 0; j < 2; j++) {
            const x = right - j;
            const upward = ((right + 1) & 2) === 0;
            const y = upward ? this.size - 1 - vertical : vertical;
            if (!this.reserved[y][x] && i < codewords.length * 8) {
              this.modules[y][x] = bit(codewords[i >>> 3], 7 - (i & 7));
              i++;
            }
          }
        }
      }
    }

    /// XORs a mask over the data modules (applying it twice undoes it).
    applyMask(mask) {
      const rules = [
        (x, y) => (x + y) % 2 === 0, (x, y) => y % 2 === 0, (x) => x % 3 === 0, (x, y) => (x + y) % 3 === 0,
        (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0, (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
        (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0, (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
      ];
      for (let y = 0; y < this.size; y++) {
        for (let x = 0; x < this.size; x++) if (!this.reserved[y][x] && rules[mask](x, y)) this.modules[y][x] = !this.modules[y][x];
      }
    }

    /// The standard penalty: long runs, 2x2 blocks, finder-like patterns, dark/light balance.
    penalty() {
      const size = this.size;
      const m = this.modules;
      let score = 0;
      const line = (get) => {
        let color = false;
        let run = 0;
        const history = [0, 0, 0, 0, 0, 0, 0];
        const add = (length) => {
          if (history[0] === 0) length += size; // the light border before the line
          history.pop();
          history.unshift(length);
        };
        const patterns = () => {
          const n = history[1];
          const core = n > 0 && history[2] === n && history[3] === n * 3 && history[4] === n && history[5] === n;
          return (core && history[0] >= n * 4 && history[6] >= n ? 1 : 0) + (core && history[6] >= n * 4 && history[0] >= n ? 1 : 0);
        };
        for (let i = 0; i < size; i++) {
          if (get(i) === color) {
            run++;
            if (run === 5) score += 3; else if (run > 5) score++;
          } else {
            add(run);
            if (!color) score += patterns() * 40;
            color = get(i);
            run = 1;
          }
        }
        if (color) { add(run); run = 0; }
        add(run + size); // the light border after the line
        score += patterns() * 40;
      };
      for (let y = 0; y < size; y++) line((x) => m[y][x]);
      for (let x = 0; x < size; x++) line((y) => m[y][x]);
      for (let y = 0; y < size - 1; y++) {
        for (let x = 0; x < size - 1; x++) {
          const c = m[y][x];
          if (c === m[y][x + 1] && c === m[y + 1][x] && c === m[y + 1][x + 1]) score += 3;
        }
      }
      const dark = m.reduce((sum, row) => sum + row.filter(Boolean).length, 0);
      const total = size * size;
      score += (Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1) * 10;
      return score;
    }
  }

  /// The modules (true = dark, no quiet zone). `forcedMask` (0-7) is for tests only.
  function matrix(text, forcedMask) {
    const bytes = utf8(String(text));
    let version = 1;
    while (version <= 40 && 4 + (version <= 9 ? 8 : 16) + bytes.length * 8 > dataCodewords(version) * 8) version++;
    if (version > 40) throw new Error(`Text too long for a QR code (${bytes.length} bytes; at most 2331 at level M)`);
    const symbol = new Symbol(version);
    symbol.drawCodewords(withErrorCorrection(encodeData(bytes, version), version));
    let best = forcedMask;
    if (best === undefined) {
      let lowest = Infinity;
      for (let mask = 0; mask < 8; mask++) {
        symbol.applyMask(mask);
        symbol.drawFormat(mask);
        const score = symbol.penalty();
        if (score < lowest) { lowest = score; best = mask; }
        symbol.applyMask(mask);
      }
    }
    symbol.applyMask(best);
    symbol.drawFormat(best);
    return symbol.modules.map((row) => row.slice());
  }

  /// An <svg> of the code with a 4-module quiet zone: one path of dark squares on white.
  function svg(text, options = {}) {
    const modules = matrix(text);
    const border = 4;
    const extent = modules.length + border * 2;
    const NS = "http://www.w3.org/2000/svg";
    const root = document.createElementNS(NS, "svg");
    root.setAttribute("viewBox", `0 0 ${extent} ${extent}`);
    root.setAttribute("width", String(options.size || 200));
    root.setAttribute("height", String(options.size || 200));
    root.setAttribute("role", "img");
    root.setAttribute("aria-label", options.label || "QR code");
    root.setAttribute("shape-rendering", "crispEdges");
    const background = document.createElementNS(NS, "rect");
    for (const [name, value] of [["width", extent], ["height", extent], ["fill", "#fff"]]) background.setAttribute(name, String(value));
    const path = document.createElementNS(NS, "path");
    let d = "";
    modules.forEach((row, y) => row.forEach((dark, x) => { if (dark) d += `M${x + border},${y + border}h1v1h-1z`; }));
    path.setAttribute("d", d);
    path.setAttribute("fill", "#000");
    root.append(background, path);
    return root;
  }

  return { matrix, svg };
})();

if (typeof module !== "undefined") module.exports = QRCode;
