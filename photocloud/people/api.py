"""REST API for people and faces: the same services as the pages. Everything here is the owner's alone: other
users' people and faces are not found (404), whoever asks."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from photocloud.core import serializers as strict
from photocloud.core.pagination import CappedCountPagination
from photocloud.core.schema import refusal
from photocloud.library.models import Photo
from photocloud.library.serializers import PhotoSerializer

from . import selectors, services
from .models import Person
from .serializers import (
    FaceBoxSerializer,
    FaceMoveSerializer,
    MergeSerializer,
    PeopleFilterSerializer,
    PersonSerializer,
    SimilarFaceSerializer,
)

HIDDEN = {"false": False, "true": True, "all": None}


class PersonViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your people: faces grouped by who they are. Name them (any language), hide them, merge them."""

    serializer_class = PersonSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self):
        listed = self.action == "list"
        hidden = strict.checked_query(self.request, PeopleFilterSerializer)["hidden"] if listed else "all"
        return selectors.people_of(self.request.user, hidden=HIDDEN[hidden])

    @extend_schema(parameters=[PeopleFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=PersonSerializer, responses=PersonSerializer)
    def partial_update(self, request, pk=None):
        person = self.get_object()
        data = PersonSerializer(person, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            services.rename(person, data.validated_data["name"])
        if "hidden" in data.validated_data:
            services.set_hidden(person, data.validated_data["hidden"])
        return Response(PersonSerializer(self.get_object(), context=self.get_serializer_context()).data)

    @extend_schema(
        request=MergeSerializer,
        responses={200: PersonSerializer, 400: refusal("Some of these people are not yours or do not exist.")},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge other people of yours into this one (their faces join it; they are gone)."""
        target = self.get_object()
        data = MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = set(data.validated_data["people"])
        sources = list(Person.objects.owned_by(request.user).filter(pk__in=ids))
        if len(sources) != len(ids):
            raise exceptions.ValidationError({"people": ["Some of these people are not yours or do not exist."]})
        services.merge(target, sources)
        return Response(PersonSerializer(self.get_object(), context=self.get_serializer_context()).data)

    @extend_schema(responses=PhotoSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=CappedCountPagination)  # as the photo list
    def photos(self, request, pk=None):
        """The person's pictures, in timeline order."""
        person = self.get_object()
        page = self.paginate_queryset(selectors.photos_of(request.user, person))
        return self.get_paginated_response(PhotoSerializer(page, many=True, context={"request": request}).data)


class FaceViewSet(viewsets.GenericViewSet):
    """One face in one of your pictures: move it to another person, to a new one, or to nobody."""

    serializer_class = FaceBoxSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = "[0-9]{1,18}"
    pagination_class = None

    def get_object(self):
        face = selectors.face_of(self.request.user, self.kwargs["pk"])
        if face is None:
            raise exceptions.NotFound("No such face.")
        return face

    def retrieve(self, request, pk=None):
        return Response(FaceBoxSerializer(self.get_object()).data)

    @extend_schema(
        request=FaceMoveSerializer,
        responses={200: FaceBoxSerializer, 400: refusal("No such person of yours (`person`).")},
    )
    def partial_update(self, request, pk=None):
        """Place the face on one of your people (`person`), on a new person (`new_person`), or on nobody
        (`person`: null, "not this person": it will not join that person again)."""
        face = self.get_object()
        data = FaceMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new_person, wanted = data.validated_data["new_person"], data.validated_data.get("person")
        if not new_person and "person" not in data.validated_data:
            return Response(FaceBoxSerializer(face).data)  # nothing asked: a PATCH leaves what it is not given
        person = None
        if wanted is not None and not new_person:
            person = Person.objects.owned_by(request.user).filter(pk=wanted).first()
            if person is None:
                raise exceptions.ValidationError({"person": ["No such person."]})
        services.move_face(face, person, new_person=new_person)
        return Response(FaceBoxSerializer(self.get_object()).data)

    @extend_schema(responses=SimilarFaceSerializer(many=True))
    @action(detail=True, methods=["get"])
    def similar(self, request, pk=None):
        """Your pictures with the faces most like this one, most alike first."""
        hits = selectors.similar_faces(request.user, self.get_object())
        context = {"request": request}
        PhotoSerializer(context=context).remember_albums([photo for photo, _ in hits])  # one query for them all
        return Response(
            [
                {"similarity": round(score, 4), "photo": PhotoSerializer(photo, context=context).data}
                for photo, score in hits
            ]
        )


class PhotoFacesView(APIView):
    """The faces in one of your pictures, with their boxes and people (only the owner sees them)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=FaceBoxSerializer(many=True))
    def get(self, request, pk):
        photo = get_object_or_404(Photo.objects.owned_by(request.user), pk=pk)
        return Response(FaceBoxSerializer(selectors.faces_in(request.user, photo), many=True).data)
