import { randomBytes } from 'node:crypto';

/** A container ID: 64 lowercase hex characters, like docker's. */
export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

// A share of docker's names-generator lists (adjectives, and notable scientists and hackers).
const ADJECTIVES = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful',
  'blissful', 'bold', 'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent',
  'condescending', 'confident', 'cool', 'cranky', 'crazy', 'dazzling', 'determined', 'distracted',
  'dreamy', 'eager', 'ecstatic', 'elastic', 'elated', 'elegant', 'eloquent', 'epic', 'exciting',
  'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted',
  'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry', 'infallible',
  'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving',
  'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty',
  'nostalgic', 'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical', 'priceless',
  'quirky', 'quizzical', 'recursing', 'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp',
  'silly', 'sleepy', 'stoic', 'strange', 'stupefied', 'suspicious', 'sweet', 'tender', 'thirsty',
  'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful',
  'xenodochial', 'youthful', 'zealous', 'zen',
];
const SURNAMES = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'ardinghelli', 'aryabhata', 'babbage', 'banach',
  'bardeen', 'bartik', 'bassi', 'bell', 'bhabha', 'blackburn', 'bohr', 'booth', 'borg', 'bose',
  'brahmagupta', 'brattain', 'brown', 'cannon', 'carson', 'cerf', 'chandrasekhar', 'chatterjee',
  'clarke', 'colden', 'cori', 'curie', 'darwin', 'davinci', 'dijkstra', 'driscoll', 'easley',
  'einstein', 'elion', 'engelbart', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman',
  'franklin', 'galileo', 'gates', 'goldberg', 'goldstine', 'goodall', 'hamilton', 'hawking',
  'heisenberg', 'hermann', 'hodgkin', 'hofstadter', 'hopper', 'hypatia', 'jackson', 'jang',
  'jennings', 'johnson', 'kalam', 'kapitsa', 'keller', 'kepler', 'khorana', 'kilby', 'knuth',
  'kowalevski', 'lalande', 'lamarr', 'lamport', 'leakey', 'leavitt', 'lichterman', 'liskov',
  'lovelace', 'lumiere', 'margulis', 'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel',
  'merkle', 'mirzakhani', 'morse', 'napier', 'nash', 'newton', 'nobel', 'noether', 'northcutt',
  'noyce', 'pare', 'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy',
  'raman', 'ramanujan', 'ride', 'ritchie', 'rosalind', 'saha', 'sammet', 'shamir', 'shannon',
  'shaw', 'shockley', 'sinoussi', 'snyder', 'spence', 'stonebraker', 'swanson', 'swartz', 'tesla',
  'thompson', 'torvalds', 'turing', 'varahamihira', 'villani', 'wescoff', 'wilbur', 'wiles',
  'williams', 'wilson', 'wing', 'wozniak', 'wright', 'yalow', 'yonath',
];

function pick<T>(list: T[]): T {
  return list[randomBytes(4).readUInt32BE(0) % list.length]!;
}

/** docker's adjective_surname; after a clash the caller retries, then a digit is appended. */
export function generateName(attempt = 0): string {
  const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
  if (name === 'boring_wozniak') return generateName(attempt); // Steve Wozniak is not boring (docker's rule)
  return attempt > 3 ? `${name}${randomBytes(1)[0]! % 10}` : name;
}

/** Names follow docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
