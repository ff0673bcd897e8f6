import { h } from 'preact';
import htm from 'htm';

/** JSX-free templates: tagged template literals that build Preact elements, no compile step. */
export const html = htm.bind(h);
