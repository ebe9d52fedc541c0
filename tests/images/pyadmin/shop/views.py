from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .forms import ContactForm
from .models import Item, Message


@require_GET
def index(request):
    return render(request, "shop/index.html", {"count": Item.objects.count()})


@require_GET
def about(request):
    return render(request, "shop/about.html")


@require_GET
def item_list(request):
    return render(request, "shop/item_list.html", {"items": Item.objects.all()})


@require_GET
def item_detail(request, pk):
    item = get_object_or_404(Item, pk=pk)
    return render(request, "shop/item_detail.html", {"item": item})


@require_GET
def items_csv(request):
    from .export import items_csv as to_csv

    return HttpResponse(to_csv(Item.objects.all()), content_type="text/csv")


@require_GET
def items_json(request):
    items = [
        {"id": i.pk, "name": i.name, "price": str(i.price), "stock": i.stock}
        for i in Item.objects.all()
    ]
    return JsonResponse({"items": items})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def contact(request):
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            form.save()
            return render(
                request, "shop/thanks.html", {"count": Message.objects.count()}
            )
        return render(request, "shop/contact.html", {"form": form}, status=400)
    return render(request, "shop/contact.html", {"form": ContactForm()})
