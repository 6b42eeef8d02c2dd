import { useActivations } from "../api/hooks.js";
import { ActivationCard } from "../components/activations/ActivationCard.js";
import { ChapterFigures } from "../components/activations/ChapterFigures.js";
import { Empty, ErrorState, Loading } from "../components/ui.js";

export function ActivationsPage() {
  const q = useActivations();
  return (
    <div className="activations">
      <div className="page-head">
        <h1>Activations</h1>
      </div>
      <p className="muted">
        Every hidden-layer activation actlab can train, with its derivative — the factor each layer multiplies
        into the gradient on its way back. Where f′ is far below 1, deep stacks lose their gradient.
      </p>
      {q.isPending ? (
        <Loading what="Loading the activation catalog" />
      ) : q.isError ? (
        <ErrorState error={q.error} retry={() => void q.refetch()} />
      ) : q.data.length === 0 ? (
        <Empty title="The catalog is empty." />
      ) : (
        <>
          <ChapterFigures catalog={q.data} />
          <div className="gallery">
            {q.data.map((a) => (
              <ActivationCard key={a.name} base={a} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}
