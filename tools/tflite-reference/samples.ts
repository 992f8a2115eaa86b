/** The real photos under samples/ that the TFLite fixtures cover; sources and licences in samples/README.md. */
export interface CocoSample {
  /** File under samples/. */
  file: string;
  /** Debian package it comes from. */
  debianPackage: string;
  /** Path inside the package. */
  source: string;
  licence: string;
}

export const COCO_SAMPLES: readonly CocoSample[] = [
  {
    file: 'dog.jpg',
    debianPackage: 'darknet',
    source: 'usr/share/darknet/data/dog.jpg',
    licence: 'MIT (darknet: GPL-3.0+ or MIT or WTFPL)',
  },
  {
    file: 'person.jpg',
    debianPackage: 'darknet',
    source: 'usr/share/darknet/data/person.jpg',
    licence: 'MIT (darknet: GPL-3.0+ or MIT or WTFPL)',
  },
  {
    file: 'astronaut.jpg',
    debianPackage: 'python3-skimage',
    source: 'usr/lib/python3/dist-packages/skimage/data/astronaut.png',
    licence: 'public domain (NASA)',
  },
  {
    file: 'chelsea.jpg',
    debianPackage: 'python3-skimage',
    source: 'usr/lib/python3/dist-packages/skimage/data/chelsea.png',
    licence: 'CC0 (Stefan van der Walt)',
  },
  {
    file: 'coffee.jpg',
    debianPackage: 'python3-skimage',
    source: 'usr/lib/python3/dist-packages/skimage/data/coffee.png',
    licence: 'CC0 (Rachel Michetti)',
  },
];
