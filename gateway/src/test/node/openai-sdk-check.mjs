// The official OpenAI SDK against mlinfra's OpenAI-compatible route, as a user's script would use
// it: base URL $MLINFRA_URL/v1/openai, the API key as the SDK sends it (Authorization: Bearer).
// Prints one JSON object with what it saw; the Java test that runs it checks the values.
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: `${process.env.MLINFRA_URL}/v1/openai`,
  apiKey: process.env.MLINFRA_API_KEY,
  maxRetries: 0,
});
const model = process.env.MODEL_ID;
const out = {};

out.models = (await client.models.list()).data.map((m) => m.id);

const completion = await client.completions.create({
  model, prompt: process.env.PROMPT, max_tokens: 24, temperature: 0, stop: ['<|eot|>'],
});
out.completion = completion.choices[0].text;
out.completion_model = completion.model;
out.completion_tokens = completion.usage.completion_tokens;

const messages = [{ role: 'user', content: 'Pods crash with CrashLoopBackOff after the upgrade' }];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 });
out.chat = chat.choices[0].message.content;

let streamed = '';
const stream = await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0, stream: true });
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? '';
}
out.chat_streamed = streamed;

try {
  await client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 });
  out.error = null;
} catch (e) {
  out.error = { status: e.status, type: e.type ?? null, code: e.code ?? null, message: e.message };
}

console.log(JSON.stringify(out));
