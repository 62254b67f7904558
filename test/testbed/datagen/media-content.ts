/**
 * File contents for the media tree. Binary images are incompressible
 * (AES-CTR keystream behind a real JPEG/PNG header), text assets are
 * compressible CSS/JS/HTML. Output depends only on the key and size.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { sentence } from './fake.js';
import { hashString, Rng } from './prng.js';

/** Deterministic incompressible bytes derived from `key`. */
export function noise(key: string, size: number): Buffer {
  const digest = createHash('sha256').update(key).digest();
  const cipher = createCipheriv('aes-256-ctr', digest, digest.subarray(0, 16));
  return cipher.update(Buffer.alloc(size));
}

const JPEG_HEAD = Buffer.from([
  0xff,
  0xd8, // SOI
  0xff,
  0xe0,
  0x00,
  0x10,
  0x4a,
  0x46,
  0x49,
  0x46,
  0x00,
  0x01,
  0x01,
  0x00,
  0x00,
  0x48,
  0x00,
  0x48,
  0x00,
  0x00, // APP0 JFIF
  0xff,
  0xdb,
  0x00,
  0x43,
  0x00, // DQT, table 0 follows (64 bytes taken from the noise)
]);
const JPEG_SOS = Buffer.from([0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00]);
const JPEG_EOI = Buffer.from([0xff, 0xd9]);

/** A JPEG-looking file of exactly `size` bytes (min 128). */
export function jpeg(key: string, size: number): Buffer {
  const total = Math.max(size, 128);
  const body = noise(key, total - JPEG_HEAD.length - JPEG_SOS.length - JPEG_EOI.length);
  const table = body.subarray(0, 64);
  const scan = body.subarray(64);
  return Buffer.concat([JPEG_HEAD, table, JPEG_SOS, scan, JPEG_EOI], total);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(hashString(type + data.length));
  return Buffer.concat([len, Buffer.from(type, 'ascii'), data, crc]);
}

/** A PNG-looking file of exactly `size` bytes (min 128). */
export function png(key: string, size: number): Buffer {
  const total = Math.max(size, 128);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1200, 0);
  ihdr.writeUInt32BE(800, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const head = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr)]);
  const tail = pngChunk('IEND', Buffer.alloc(0));
  const idat = pngChunk('IDAT', noise(key, total - head.length - tail.length - 12));
  return Buffer.concat([head, idat, tail], total);
}

/** Binary content matching the file extension. */
export function binaryFor(path: string, key: string, size: number): Buffer {
  return path.endsWith('.png') ? png(key, size) : jpeg(key, size);
}

const CSS_SELECTORS = [
  '.page-wrapper',
  '.product-info-main',
  '.price-box',
  '.minicart-wrapper',
  '.block-search',
  '.nav-sections',
  '.action.primary',
  '.field.choice',
  '.swatch-option',
  '.checkout-index-index .opc-wrapper',
  '.catalog-product-view .product.media',
];
const CSS_PROPS = [
  'margin: 0 0 10px',
  'padding: 6px 15px',
  'font-size: 1.4rem',
  'line-height: 1.42857143',
  'color: #333333',
  'background: #f0f0f0',
  'border: 1px solid #cccccc',
  'display: inline-block',
  'font-weight: 600',
  'text-decoration: none',
  'box-sizing: border-box',
  'transition: opacity .2s ease',
];
const JS_NAMES = [
  'initialize',
  'updatePrice',
  'onReveal',
  'getCartData',
  'validateField',
  '_create',
  '_bind',
  'reloadPrice',
  'toggleMenu',
  'renderSwatches',
];
const HTML_BINDINGS = [
  'visible: isVisible',
  "text: $t('Add to Cart')",
  'click: submit',
  'attr: {title: label}',
  'foreach: items',
  'if: isLoading',
  "css: {'_active': isActive}",
];

/** Compressible text asset (css/js/html, else key=value lines) of about `size` bytes; gzip ratio roughly 4-6x like real static files. */
export function textAsset(path: string, seedKey: string, size: number): Buffer {
  const rng = new Rng(hashString(seedKey));
  const chunks: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    chunks.push(s);
    length += s.length;
  };
  const ident = (): string => `${rng.pick(JS_NAMES)}${rng.hex(rng.int(2, 6))}`;
  if (path.endsWith('.css')) {
    while (length < size) {
      emit(
        `${rng.pick(CSS_SELECTORS)} .${ident()} > ${rng.pick(CSS_SELECTORS)} {\n  ${rng.pick(CSS_PROPS)};\n  width: ${rng.int(1, 1200)}px;\n  color: #${rng.hex(6)};\n  ${rng.pick(CSS_PROPS)};\n}\n`,
      );
    }
  } else if (path.endsWith('.js')) {
    emit(
      "define([\n    'jquery',\n    'underscore',\n    'mage/translate'\n], function ($, _, $t) {\n    'use strict';\n\n    return {\n",
    );
    while (length < size) {
      emit(
        `        /** ${sentence(rng, rng.int(4, 12))} */\n        ${ident()}: function (${ident()}, element) {\n            var ${ident()} = ${rng.int(0, 99999)};\n            $(element).on('click', function () { self.options['${ident()}'] = $t('${sentence(rng, rng.int(2, 6))}'); });\n        },\n`,
      );
    }
    emit('    };\n});\n');
  } else if (path.endsWith('.html')) {
    while (length < size) {
      emit(
        `<div class="field ${ident()}" data-bind="${rng.pick(HTML_BINDINGS)}">\n    <span data-bind="${rng.pick(HTML_BINDINGS)}"><!-- ko i18n: '${sentence(rng, rng.int(2, 8))}' --><!-- /ko --></span>\n</div>\n`,
      );
    }
  } else {
    while (length < size) emit(`${ident()}=${rng.hex(8)}\n`);
  }
  return Buffer.from(chunks.join('').slice(0, Math.max(size, 1)));
}
