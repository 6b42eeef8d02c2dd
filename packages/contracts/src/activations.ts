import { z } from "zod";

/** Every hidden activation actlab trains, with the parameters each one takes. */
export const ACTIVATION_NAMES = [
  "sigmoid",
  "tanh",
  "relu",
  "leaky_relu",
  "prelu",
  "rrelu",
  "elu",
  "selu",
  "gelu",
  "silu",
  "softplus",
  "mish",
  "linear",
] as const;
export const ZActivationName = z.enum(ACTIVATION_NAMES);
export type TActivationName = z.infer<typeof ZActivationName>;

const plain = <N extends TActivationName>(name: N) => z.object({ activation: z.literal(name) }).strict();

export const ZVariant = z.discriminatedUnion("activation", [
  plain("sigmoid"),
  plain("tanh"),
  plain("relu"),
  z
    .object({
      activation: z.literal("leaky_relu"),
      alpha: z.number().min(0).max(1).default(0.01),
    })
    .strict(),
  z
    .object({
      activation: z.literal("prelu"),
      alphaInit: z.number().min(-1).max(1).default(0),
    })
    .strict(),
  z
    .object({
      activation: z.literal("rrelu"),
      lower: z.number().min(0).max(1).default(0.125),
      upper: z.number().min(0).max(1).default(0.333),
    })
    .strict()
    .refine((v) => v.lower <= v.upper, {
      message: "lower must not exceed upper",
      path: ["lower"],
    }),
  z
    .object({
      activation: z.literal("elu"),
      alpha: z.number().gt(0).max(10).default(1),
    })
    .strict(),
  plain("selu"),
  plain("gelu"),
  plain("silu"),
  plain("softplus"),
  plain("mish"),
  plain("linear"),
]);
export type TVariant = z.infer<typeof ZVariant>;
export type TVariantInput = z.input<typeof ZVariant>;

/** A short, stable label such as `leaky_relu(alpha=0.01)`, used in tables and charts. */
export function variantLabel(variant: TVariant): string {
  const { activation, ...params } = variant as { activation: string } & Record<string, number>;
  const parts = Object.entries(params).map(([k, v]) => `${k}=${v}`);
  return parts.length ? `${activation}(${parts.join(", ")})` : activation;
}
