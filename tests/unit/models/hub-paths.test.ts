import { describe, expect, it } from 'vitest';
import { hubPathProblem } from '../../../src/main/models/hub-paths';

describe('hub file names', () => {
  it.each(['..\\evil', 'C:\\x', 'C:x', '/etc/x', 'a/../../b', '..', './a', 'a//b', 'CON', 'con.txt', 'onnx/LPT1', 'Aux.json', 'x\0y', 'a\u001b[31m', 'a/b.', 'a /b', 'a|b', 'a?b'])('refuses %j', (name) => {
    expect(hubPathProblem(name)).not.toBeNull();
  });

  it.each(['config.json', 'onnx/model_q4.onnx', 'text_encoder/model.onnx_data', 'tokenizer/vocab.json', 'a..b/c', '.gitattributes', 'unet/.keep', 'console.json', 'CONFIG'])('accepts %j', (name) => {
    expect(hubPathProblem(name)).toBeNull();
  });
});
