// The live size preview of a segment that is being edited, through the API's
// previewSegment query, which counts the members without writing anything.

import { graphql } from "./api.js";

const PREVIEW_QUERY = `
  query PreviewSegment($predictionId: ID, $input: SegmentInput!, $sampleSize: Int!) {
    previewSegment(predictionId: $predictionId, input: $input, sampleSize: $sampleSize) {
      preview { memberCount sample }
      errors { field code message }
    }
  }
`;
const SAMPLE_SIZE = 5;

/**
 * Count the members `input` would have, as {memberCount, sample, errors}; return
 * null when the server has no previewSegment.
 */
export async function requestPreview(session, predictionId, input) {
  if (!session.fields.query.has("previewSegment")) return null;

  // previewSegment does not check the name, so an unnamed draft can be previewed.
  const data = await graphql(PREVIEW_QUERY, { predictionId, input, sampleSize: SAMPLE_SIZE });
  const payload = data.previewSegment;
  return {
    memberCount: payload.preview?.memberCount ?? null,
    sample: payload.preview?.sample ?? [],
    errors: payload.errors,
  };
}
