/**
 * What a picture says about where it came from, as text (pure, no Node APIs): AUTOMATIC1111's
 * `parameters` infotext and an XMP packet with IPTC DigitalSourceType trainedAlgorithmicMedia.
 * The engine writes them into freshly generated PNGs; library export adds them to a stored
 * generation's PNG when they are missing. Both go through these functions, so the format is one.
 */

export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
/** A picture (a photograph) changed by a trained model: what an upscaled photograph is. */
export const COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia';

const A1111_SAMPLER: Record<string, string> = {
  euler: 'Euler',
  'euler-a': 'Euler a',
  ddim: 'DDIM',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM',
};

/** AUTOMATIC1111's name of an Atelier scheduler (an unknown one as it is). */
export function a1111SamplerLabel(scheduler: string): string {
  return A1111_SAMPLER[scheduler] ?? scheduler;
}

type Value = string | number | null | undefined;

/** The fields of the infotext; a missing (undefined, null or empty) one is left out. */
export interface InfotextFields {
  prompt: string;
  negativePrompt?: string | null;
  steps?: Value;
  /** Atelier's scheduler id (written as AUTOMATIC1111's sampler name). */
  scheduler?: Value;
  guidance?: Value;
  seed?: Value;
  width?: Value;
  height?: Value;
  model?: Value;
  /** Denoising strength: give it only for image-to-image. */
  strength?: Value;
}

/**
 * AUTOMATIC1111's infotext: prompt, "Negative prompt: …", then "Steps, Sampler, CFG scale, Seed,
 * Size, Model[, Denoising strength]" and any `extra` fields, in that order.
 */
export function formatA1111Parameters(f: InfotextFields, extra: Record<string, string | number> = {}): string {
  const fields: [string, Value][] = [
    ['Steps', f.steps],
    ['Sampler', typeof f.scheduler === 'string' ? a1111SamplerLabel(f.scheduler) : undefined],
    ['CFG scale', f.guidance],
    ['Seed', f.seed],
    ['Size', f.width && f.height ? `${f.width}x${f.height}` : undefined],
    ['Model', f.model],
    ['Denoising strength', f.strength],
    ...Object.entries(extra),
  ];
  const quote = (value: string | number): string => {
    const text = String(value);
    return /[,:\n"]/.test(text) ? JSON.stringify(text) : text;
  };
  const lines = [f.prompt];
  if (f.negativePrompt) lines.push(`Negative prompt: ${f.negativePrompt}`);
  lines.push(
    fields
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== null && entry[1] !== '')
      .map(([key, value]) => `${key}: ${quote(value)}`)
      .join(', '),
  );
  return lines.join('\n');
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An XMP packet with IPTC DigitalSourceType (trainedAlgorithmicMedia unless told) and the prompt as dc:description. */
export function buildXmp(p: { prompt: string; model: string }, digitalSourceType: string = TRAINED_ALGORITHMIC_MEDIA): string {
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
    `    Iptc4xmpExt:DigitalSourceType="${xmlEscape(digitalSourceType)}"`,
    `    xmp:CreatorTool="Atelier (${xmlEscape(p.model)})">`,
    '   <dc:description>',
    '    <rdf:Alt>',
    `     <rdf:li xml:lang="x-default">${xmlEscape(p.prompt)}</rdf:li>`,
    '    </rdf:Alt>',
    '   </dc:description>',
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('\n');
}
