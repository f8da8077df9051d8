// The Porter stemmer (Porter 1980, "An algorithm for suffix stripping"), step for step as
// Lucene's org.apache.lucene.analysis.en.PorterStemmer implements it (Release 3 of Porter's own
// reference code, with its two departures from the paper that Lucene keeps: step 3 maps
// -bli → -ble instead of -abli → -able, and adds -logi → -log). Words of one or two characters
// are returned unchanged. Characters other than a e i o u (and y after a consonant) count as
// consonants, exactly as in Lucene, so upper-case or non-ASCII input is handled the same way.
//
// The stemmer works on a char-code buffer with the reference code's cursors: k0 = start, k = end
// (inclusive), j = end of the stem while a suffix is being tested.

const A = 97, E = 101, I = 105, O = 111, U = 117, Y = 121, S = 115, L = 108, Z = 122;
const W = 119, X = 120;

export class PorterStemmer {
  private b: number[] = [];
  private k = 0;
  private j = 0;
  private readonly k0 = 0;

  stem(word: string): string {
    const n = word.length;
    if (n <= 2) return word;
    const b = this.b;
    b.length = n;
    for (let i = 0; i < n; i++) b[i] = word.charCodeAt(i);
    this.k = n - 1;
    this.j = 0;
    this.step1();
    this.step2();
    this.step3();
    this.step4();
    this.step5();
    this.step6();
    const len = this.k + 1;
    let same = len === n;
    if (same) {
      for (let i = 0; i < n; i++) {
        if (b[i] !== word.charCodeAt(i)) { same = false; break; }
      }
    }
    if (same) return word;
    let out = '';
    for (let i = 0; i < len; i++) out += String.fromCharCode(b[i]!);
    return out;
  }

  private at(i: number): number {
    return this.b[i]!;
  }

  /** True when b[i] is a consonant; y is a consonant at the start or after a vowel. */
  private cons(i: number): boolean {
    switch (this.at(i)) {
      case A: case E: case I: case O: case U:
        return false;
      case Y:
        return i === this.k0 ? true : !this.cons(i - 1);
      default:
        return true;
    }
  }

  /** The measure m of b[k0..j]: the number of vowel-consonant sequences, [C](VC){m}[V]. */
  private m(): number {
    let n = 0;
    let i = this.k0;
    const j = this.j;
    for (;;) {
      if (i > j) return n;
      if (!this.cons(i)) break;
      i++;
    }
    i++;
    for (;;) {
      for (;;) {
        if (i > j) return n;
        if (this.cons(i)) break;
        i++;
      }
      i++;
      n++;
      for (;;) {
        if (i > j) return n;
        if (!this.cons(i)) break;
        i++;
      }
      i++;
    }
  }

  private vowelInStem(): boolean {
    for (let i = this.k0; i <= this.j; i++) if (!this.cons(i)) return true;
    return false;
  }

  private doublec(j: number): boolean {
    if (j < this.k0 + 1) return false;
    if (this.at(j) !== this.at(j - 1)) return false;
    return this.cons(j);
  }

  /** consonant-vowel-consonant ending at i, the last consonant not w, x or y (hop(e), not snow). */
  private cvc(i: number): boolean {
    if (i < this.k0 + 2 || !this.cons(i) || this.cons(i - 1) || !this.cons(i - 2)) return false;
    const ch = this.at(i);
    return !(ch === W || ch === X || ch === Y);
  }

  private ends(s: string): boolean {
    const l = s.length;
    const o = this.k - l + 1;
    if (o < this.k0) return false;
    for (let i = 0; i < l; i++) if (this.at(o + i) !== s.charCodeAt(i)) return false;
    this.j = this.k - l;
    return true;
  }

  private setto(s: string): void {
    const l = s.length;
    const o = this.j + 1;
    for (let i = 0; i < l; i++) this.b[o + i] = s.charCodeAt(i);
    this.k = this.j + l;
  }

  private r(s: string): void {
    if (this.m() > 0) this.setto(s);
  }

  /** Plurals and -ed / -ing: caresses → caress, ponies → poni, agreed → agree, hopping → hop. */
  private step1(): void {
    if (this.at(this.k) === S) {
      if (this.ends('sses')) this.k -= 2;
      else if (this.ends('ies')) this.setto('i');
      else if (this.at(this.k - 1) !== S) this.k--;
    }
    if (this.ends('eed')) {
      if (this.m() > 0) this.k--;
    } else if ((this.ends('ed') || this.ends('ing')) && this.vowelInStem()) {
      this.k = this.j;
      if (this.ends('at')) this.setto('ate');
      else if (this.ends('bl')) this.setto('ble');
      else if (this.ends('iz')) this.setto('ize');
      else if (this.doublec(this.k)) {
        const ch = this.at(this.k--);
        if (ch === L || ch === S || ch === Z) this.k++;
      } else if (this.m() === 1 && this.cvc(this.k)) this.setto('e');
    }
  }

  /** Terminal y → i when the stem has another vowel. */
  private step2(): void {
    if (this.ends('y') && this.vowelInStem()) this.b[this.k] = I;
  }

  /** Double suffixes to single ones (-ization → -ize, -ational → -ate), when m > 0. */
  private step3(): void {
    if (this.k === this.k0) return;
    switch (String.fromCharCode(this.at(this.k - 1))) {
      case 'a':
        if (this.ends('ational')) { this.r('ate'); break; }
        if (this.ends('tional')) { this.r('tion'); break; }
        break;
      case 'c':
        if (this.ends('enci')) { this.r('ence'); break; }
        if (this.ends('anci')) { this.r('ance'); break; }
        break;
      case 'e':
        if (this.ends('izer')) { this.r('ize'); break; }
        break;
      case 'l':
        if (this.ends('bli')) { this.r('ble'); break; }
        if (this.ends('alli')) { this.r('al'); break; }
        if (this.ends('entli')) { this.r('ent'); break; }
        if (this.ends('eli')) { this.r('e'); break; }
        if (this.ends('ousli')) { this.r('ous'); break; }
        break;
      case 'o':
        if (this.ends('ization')) { this.r('ize'); break; }
        if (this.ends('ation')) { this.r('ate'); break; }
        if (this.ends('ator')) { this.r('ate'); break; }
        break;
      case 's':
        if (this.ends('alism')) { this.r('al'); break; }
        if (this.ends('iveness')) { this.r('ive'); break; }
        if (this.ends('fulness')) { this.r('ful'); break; }
        if (this.ends('ousness')) { this.r('ous'); break; }
        break;
      case 't':
        if (this.ends('aliti')) { this.r('al'); break; }
        if (this.ends('iviti')) { this.r('ive'); break; }
        if (this.ends('biliti')) { this.r('ble'); break; }
        break;
      case 'g':
        if (this.ends('logi')) { this.r('log'); break; }
        break;
    }
  }

  /** -ic-, -full, -ness and friends, when m > 0. */
  private step4(): void {
    switch (String.fromCharCode(this.at(this.k))) {
      case 'e':
        if (this.ends('icate')) { this.r('ic'); break; }
        if (this.ends('ative')) { this.r(''); break; }
        if (this.ends('alize')) { this.r('al'); break; }
        break;
      case 'i':
        if (this.ends('iciti')) { this.r('ic'); break; }
        break;
      case 'l':
        if (this.ends('ical')) { this.r('ic'); break; }
        if (this.ends('ful')) { this.r(''); break; }
        break;
      case 's':
        if (this.ends('ness')) { this.r(''); break; }
        break;
    }
  }

  /** Strips -ant, -ence, -ment, … when m > 1 (the stem has two or more VC sequences). */
  private step5(): void {
    if (this.k === this.k0) return;
    let found = false;
    switch (String.fromCharCode(this.at(this.k - 1))) {
      case 'a': found = this.ends('al'); break;
      case 'c': found = this.ends('ance') || this.ends('ence'); break;
      case 'e': found = this.ends('er'); break;
      case 'i': found = this.ends('ic'); break;
      case 'l': found = this.ends('able') || this.ends('ible'); break;
      case 'n':
        found = this.ends('ant') || this.ends('ement') || this.ends('ment') || this.ends('ent');
        break;
      case 'o':
        if (this.ends('ion') && this.j >= 0 && (this.at(this.j) === S || this.at(this.j) === 116)) {
          found = true;
        } else {
          found = this.ends('ou');
        }
        break;
      case 's': found = this.ends('ism'); break;
      case 't': found = this.ends('ate') || this.ends('iti'); break;
      case 'u': found = this.ends('ous'); break;
      case 'v': found = this.ends('ive'); break;
      case 'z': found = this.ends('ize'); break;
      default: return;
    }
    if (found && this.m() > 1) this.k = this.j;
  }

  /** Removes a final -e when m > 1 (or m = 1 and not cvc), and -ll → -l when m > 1. */
  private step6(): void {
    this.j = this.k;
    if (this.at(this.k) === E) {
      const a = this.m();
      if (a > 1 || (a === 1 && !this.cvc(this.k - 1))) this.k--;
    }
    if (this.at(this.k) === L && this.doublec(this.k) && this.m() > 1) this.k--;
  }
}

/** Stems one word with a shared stemmer (the stemmer is reentrant-free but synchronous). */
const shared = new PorterStemmer();
export function porterStem(word: string): string {
  return shared.stem(word);
}
